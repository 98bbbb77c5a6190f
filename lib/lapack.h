/* lapack.h - prototypes of the reference LAPACK routines we call (Debian's
 * liblapack3, whose BLAS calls resolve to BLIS).  Fortran ABI: column-major,
 * 32-bit integers, arguments by reference. */
#ifndef NSLM_LIB_LAPACK_H
#define NSLM_LIB_LAPACK_H

typedef int nslmi_lapack_int;

/* QR with column pivoting. */
void dgeqp3_(const nslmi_lapack_int *m, const nslmi_lapack_int *n, double *a,
             const nslmi_lapack_int *lda, nslmi_lapack_int *jpvt, double *tau, double *work,
             const nslmi_lapack_int *lwork, nslmi_lapack_int *info);
/* QR without pivoting, and forming / applying Q. */
void dgeqrf_(const nslmi_lapack_int *m, const nslmi_lapack_int *n, double *a,
             const nslmi_lapack_int *lda, double *tau, double *work,
             const nslmi_lapack_int *lwork, nslmi_lapack_int *info);
void dorgqr_(const nslmi_lapack_int *m, const nslmi_lapack_int *n, const nslmi_lapack_int *k,
             double *a, const nslmi_lapack_int *lda, const double *tau, double *work,
             const nslmi_lapack_int *lwork, nslmi_lapack_int *info);
void dormqr_(const char *side, const char *trans, const nslmi_lapack_int *m,
             const nslmi_lapack_int *n, const nslmi_lapack_int *k, const double *a,
             const nslmi_lapack_int *lda, const double *tau, double *c,
             const nslmi_lapack_int *ldc, double *work, const nslmi_lapack_int *lwork,
             nslmi_lapack_int *info);
/* Triangular solve. */
void dtrtrs_(const char *uplo, const char *trans, const char *diag, const nslmi_lapack_int *n,
             const nslmi_lapack_int *nrhs, const double *a, const nslmi_lapack_int *lda,
             double *b, const nslmi_lapack_int *ldb, nslmi_lapack_int *info);
/* Least squares (SVD based, minimum norm) and SVD. */
void dgelsd_(const nslmi_lapack_int *m, const nslmi_lapack_int *n, const nslmi_lapack_int *nrhs,
             double *a, const nslmi_lapack_int *lda, double *b, const nslmi_lapack_int *ldb,
             double *s, const double *rcond, nslmi_lapack_int *rank, double *work,
             const nslmi_lapack_int *lwork, nslmi_lapack_int *iwork, nslmi_lapack_int *info);
void dgesdd_(const char *jobz, const nslmi_lapack_int *m, const nslmi_lapack_int *n, double *a,
             const nslmi_lapack_int *lda, double *s, double *u, const nslmi_lapack_int *ldu,
             double *vt, const nslmi_lapack_int *ldvt, double *work,
             const nslmi_lapack_int *lwork, nslmi_lapack_int *iwork, nslmi_lapack_int *info);
/* Symmetric positive definite solve (Cholesky). */
void dposv_(const char *uplo, const nslmi_lapack_int *n, const nslmi_lapack_int *nrhs, double *a,
            const nslmi_lapack_int *lda, double *b, const nslmi_lapack_int *ldb,
            nslmi_lapack_int *info);
/* Cholesky factorization, unblocked (level-2 BLAS: no per-block level-3
 * calls, which dominate dpotrf at small n). */
void dpotf2_(const char *uplo, const nslmi_lapack_int *n, double *a, const nslmi_lapack_int *lda,
             nslmi_lapack_int *info);

/* LU with partial pivoting, and the 1-norm condition estimate of a
 * triangular matrix. */
void dgetrf_(const nslmi_lapack_int *m, const nslmi_lapack_int *n, double *a,
             const nslmi_lapack_int *lda, nslmi_lapack_int *ipiv, nslmi_lapack_int *info);
void dtrcon_(const char *norm, const char *uplo, const char *diag, const nslmi_lapack_int *n,
             const double *a, const nslmi_lapack_int *lda, double *rcond, double *work,
             nslmi_lapack_int *iwork, nslmi_lapack_int *info);
/* BLAS triangular solve with several right-hand sides (BLIS's BLAS). */
void dtrsm_(const char *side, const char *uplo, const char *transa, const char *diag,
            const nslmi_lapack_int *m, const nslmi_lapack_int *n, const double *alpha,
            const double *a, const nslmi_lapack_int *lda, double *b, const nslmi_lapack_int *ldb);

#endif
