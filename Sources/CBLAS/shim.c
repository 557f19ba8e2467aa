/* Intentionally empty: the target exists to carry cblas_shim.h and the link to OpenBLAS. */
