/*
 * FastCDC's cut-point search over the keyed gear hash: the loop of the normative rule in
 * docs/design/repository-format.md, "Chunking". One definition for the two callers: the
 * chunker's findCut (cut_search.c, driven from src/engine/chunker/cut-finder.ts) and the native
 * file sealers (file_seal.c), which must cut exactly where the chunker does.
 */
#ifndef HOLDFAST_CUT_RULE_H
#define HOLDFAST_CUT_RULE_H

#include <stdint.h>

typedef struct {
  const int32_t *gear; /* 256 entries */
  int64_t min_size, normal_size, max_size;
  uint32_t mask_s, mask_l;
} cut_rule;

/* Continues the chunk whose scanned length and hash are *scanned and *hash with data[from, n).
 * Returns the index just past the chunk's last byte (and resets both), or -1 when the data ends
 * first (they then hold the chunk so far). */
static inline int64_t cut_find(const cut_rule *r, int64_t *scanned, uint32_t *hash,
                               const uint8_t *data, int64_t from, int64_t n) {
  /* Chunk offsets are base + i; comparing indexes keeps the loops free of counters. */
  int64_t chunk_base = *scanned - from;
  uint32_t h = *hash;
  int64_t i = from, cut = -1;
  int64_t min_end = r->min_size - chunk_base;
  if (i < min_end) {
    if (min_end >= n) goto suspend;
    i = min_end;
  }
  int64_t normal_end = r->normal_size - chunk_base;
  if (i < normal_end) {
    int64_t stop = normal_end < n ? normal_end : n;
    for (; i < stop; i++) {
      h = (h << 1) + (uint32_t)r->gear[data[i]];
      if ((h & r->mask_s) == 0) {
        cut = i + 1;
        goto done;
      }
    }
    if (i < normal_end) goto suspend;
  }
  int64_t max_end = r->max_size - chunk_base;
  int64_t stop = max_end < n ? max_end : n;
  for (; i < stop; i++) {
    h = (h << 1) + (uint32_t)r->gear[data[i]];
    if ((h & r->mask_l) == 0) {
      cut = i + 1;
      goto done;
    }
  }
  if (i == max_end) {
    cut = i;
    goto done;
  }
suspend:
  *scanned = chunk_base + n;
  *hash = h;
  return -1;
done:
  *scanned = 0;
  *hash = 0;
  return cut;
}

#endif
