/* units.h - hidden units: activity, block predicates (Definition 3),
 * permutations (Lemma 3).  Masks of all hidden layers are concatenated:
 * layer j (1..l) starts at nslmi_units_offset(widths, j). */
#ifndef NSLM_LIB_UNITS_H
#define NSLM_LIB_UNITS_H

#include "nslm.h"

/* p_1 + ... + p_l (widths has l + 2 entries). */
size_t nslmi_units_total(size_t depth, const size_t *widths);
/* Offset of hidden layer j (1..l) in a concatenated mask. */
size_t nslmi_units_offset(const size_t *widths, size_t j);
/* Active units of hidden layer j (1..l): mask (p_j entries, may be NULL);
 * returns their number.  No argument checks. */
size_t nslmi_active_units(const nslm_params *theta, size_t j, unsigned char *mask);
/* Column support of Theta^j (p_j entries); returns its size. */
size_t nslmi_col_support(const nslm_params *theta, size_t j, unsigned char *mask);

#endif
