/* rng.h - a small reproducible generator (splitmix64 seeding xoshiro256**). */
#ifndef NSLM_LIB_RNG_H
#define NSLM_LIB_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } nslmi_rng;

void nslmi_rng_seed(nslmi_rng *r, uint64_t seed);
uint64_t nslmi_rng_next(nslmi_rng *r);
double nslmi_rng_uniform(nslmi_rng *r); /* [0, 1) */
double nslmi_rng_normal(nslmi_rng *r);  /* standard normal (Box-Muller) */

#endif
