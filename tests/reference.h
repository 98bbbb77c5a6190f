/* reference.h - naive scalar reference implementations, written apart from
 * the library so tests compare against independent truth. */
#ifndef NSLM_REFERENCE_H
#define NSLM_REFERENCE_H
#endif
