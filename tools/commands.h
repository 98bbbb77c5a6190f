/* commands.h - the subcommands of the nslm tool (argv[0] is the command's
 * name; each returns an exit code of cli.h). */
#ifndef NSLM_TOOLS_COMMANDS_H
#define NSLM_TOOLS_COMMANDS_H

int cmd_demo(int argc, char **argv);     /* demo.c */
int cmd_info(int argc, char **argv);     /* cmd_model.c */
int cmd_eval(int argc, char **argv);     /* cmd_model.c */
int cmd_compress(int argc, char **argv); /* cmd_construct.c */
int cmd_connect(int argc, char **argv);  /* cmd_construct.c */
int cmd_descent(int argc, char **argv);  /* cmd_construct.c */
int cmd_certify(int argc, char **argv);  /* cmd_path.c */
int cmd_profile(int argc, char **argv);  /* cmd_path.c */
int cmd_line(int argc, char **argv);     /* cmd_landscape.c */
int cmd_plane(int argc, char **argv);    /* cmd_landscape.c */

#endif
