/* A baseline JPEG's luma at 1/8 scale, decoded from the DC coefficients alone.

   At 1/8 scale each 8x8 block of the luma becomes one pixel, whose value depends only on the block's DC
   coefficient: libjpeg (Pillow's decoder, asked for "L" at 1/8) computes exactly that, but it goes through
   its whole decoding machinery to get there. Here the AC coefficients are only skipped: a table gives, for
   the next 12 bits of the stream, how many bits whole codes and their extra bits take and how far they move
   in the block, often two or three codes at once. The pixels are libjpeg's, bit for bit.

   Only what libjpeg would decode the same way without any doubt is taken: 8-bit baseline or extended
   Huffman-coded files in one interleaved scan, 1 component, or 3 of luma and chroma whose luma needs no
   upsampling, 8-bit quantisation tables, Huffman tables defined in the file, restart markers in sequence,
   the scan followed by the end of the image. Anything else (progressive, arithmetic coding, CMYK, an
   Adobe or RGB colour transform, a code not in its table, missing or extra data, an unknown marker) is
   declined, and the caller decodes the file with libjpeg, which then decides what it gives or which error.

   Untrusted input: every read is bounds-checked against the file or against the cleaned scan data, which
   is followed by PAD zero bytes, more than one MCU can consume before the check after each MCU. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOOK 12    /* bits looked up at once for AC codes */
#define LOOK_DC 9  /* ...and for DC codes */
#define PAD 4096   /* > 10 blocks x 64 codes x 31 bits / 8 + 8 */
#define KEEP (8 << 20) /* the cleaned scan data of files up to this size goes to a buffer kept between calls */

/* A buffer kept between calls (one thread at a time; the others allocate their own): a fresh allocation of a
   photo's size costs a page fault per 4 KiB page touched, which took 15% of the time. */
static uint8_t *kept;
static size_t kept_size;
static atomic_flag kept_busy = ATOMIC_FLAG_INIT;

/* A Huffman table (``build``).
   AC: ``one`` decodes one code with its extra bits: total bits | advance in the block << 8 (64 for an end
   of block); ``multi`` as many whole codes as fit in LOOK bits, the last possibly an end of block: total
   bits | end of block << 4 | advance of the others << 5. DC: ``dc`` gives code length | category << 8.
   0: not in the table at that length (the slow path decodes it, or finds it invalid). */
typedef struct {
    uint16_t one[1 << LOOK];
    uint16_t multi[1 << LOOK];
    uint16_t dc[1 << LOOK_DC];
    int32_t maxcode[18]; /* canonical decoding of any code (ITU T.81, F.2.2.3) */
    int32_t valoffset[18];
    uint8_t symbols[256];
    int defined;
} huff;

static int build(huff *t, const uint8_t *counts, const uint8_t *symbols, int n, int ac) {
    memset(t->one, 0, sizeof t->one);
    memset(t->multi, 0, sizeof t->multi);
    memset(t->dc, 0, sizeof t->dc);
    memcpy(t->symbols, symbols, n);
    int code = 0, k = 0;
    for (int len = 1; len <= 16; len++) {
        int c = counts[len - 1];
        t->valoffset[len] = k - code;
        if (code + c >= (1 << len)) return -1; /* libjpeg refuses codes that overflow, or of all ones */
        for (int i = 0; i < c; i++, k++, code++) {
            int sym = symbols[k];
            if (!ac && sym > 15) return -1; /* so does libjpeg */
            if (ac) {
                int r = sym >> 4, s = sym & 15;
                int adv = s ? r + 1 : (r == 15 ? 16 : 64);
                if (len + s <= LOOK) {
                    int shift = LOOK - len;
                    for (int j = code << shift; j < (code + 1) << shift; j++)
                        t->one[j] = (uint16_t)((len + s) | (adv << 8));
                }
            } else if (len <= LOOK_DC) {
                int shift = LOOK_DC - len;
                for (int j = code << shift; j < (code + 1) << shift; j++) t->dc[j] = (uint16_t)(len | (sym << 8));
            }
        }
        t->maxcode[len] = c ? code - 1 : -1;
        code <<= 1;
    }
    t->maxcode[17] = INT32_MAX;
    if (ac) {
        for (int j = 0; j < (1 << LOOK); j++) {
            int used = 0, sum = 0, eob = 0;
            while (!eob) {
                uint16_t e = t->one[(j << used) & ((1 << LOOK) - 1)];
                int nb = e & 255, adv = e >> 8;
                /* a code whose bits go past the LOOK known ones is not known yet */
                if (!e || used + nb > LOOK || (adv != 64 && sum + adv > 63)) break;
                used += nb;
                if (adv == 64) eob = 1; else sum += adv;
            }
            if (used) t->multi[j] = (uint16_t)(used | (eob << 4) | (sum << 5));
        }
    }
    t->defined = 1;
    return 0;
}

/* A bit reader over the cleaned scan data: the next bits at the top of ``buf``. */
typedef struct {
    uint64_t buf;
    int nbits;        /* valid bits in buf */
    const uint8_t *p; /* the first byte not yet in buf */
} bits;

static inline uint64_t load_be64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

/* At least 56 valid bits afterwards. */
static inline void refill(bits *b) {
    b->buf |= load_be64(b->p) >> b->nbits;
    b->p += (63 - b->nbits) >> 3;
    b->nbits |= 56;
}

static inline void drop(bits *b, int n) {
    b->buf <<= n;
    b->nbits -= n;
}

/* Any code, the slow way (at least 16 valid bits); -1 for a code not in the table. */
static int slow_symbol(const huff *t, const bits *b, int *len_out) {
    for (int len = 1; len <= 16; len++) {
        int32_t code = (int32_t)(b->buf >> (64 - len));
        if (code <= t->maxcode[len]) {
            int idx = code + t->valoffset[len];
            if (idx < 0 || idx > 255) return -1;
            *len_out = len;
            return t->symbols[idx];
        }
    }
    return -1;
}

/* One AC code and its extra bits (at most 31; at least that many valid bits): how far it advances in the
   block (64: end of block), -1 for a code not in the table. */
static int ac_symbol(const huff *t, bits *b) {
    uint16_t e = t->one[b->buf >> (64 - LOOK)];
    if (e) {
        drop(b, e & 255);
        return e >> 8;
    }
    int len;
    int sym = slow_symbol(t, b, &len);
    if (sym < 0) return -1;
    int r = sym >> 4, s = sym & 15;
    drop(b, len + s);
    return s ? r + 1 : (r == 15 ? 16 : 64);
}

/* Skip a block's AC coefficients, as libjpeg's decoder consumes them: a coefficient moves the position by
   its zero run plus one, a run of 16 zeros by 16, an end of block ends it, and so does reaching 64. After a
   refill, four lookups of at most LOOK bits fit in the 56 valid bits. */
static inline int skip_ac(const huff *t, bits *b) {
    int k = 1;
    for (;;) {
        refill(b);
        for (int i = 0; i < 4; i++) {
            uint16_t e = t->multi[b->buf >> (64 - LOOK)];
            int sum = e >> 5;
            if (!e || k + sum > 63) {
                /* a long code, or the block may end within these codes: one code at a time */
                refill(b);
                int adv = ac_symbol(t, b);
                if (adv < 0) return -1;
                k += adv;
                if (k >= 64) return 0;
                break;
            }
            drop(b, e & 15);
            k += sum;
            if (e & 16) return 0;
        }
    }
}

/* A DC difference (ITU T.81, F.2.2.1); -1 for a code not in the table. */
static inline int dc_diff(const huff *t, bits *b, int *diff) {
    refill(b);
    uint16_t e = t->dc[b->buf >> (64 - LOOK_DC)];
    int len, s;
    if (e) {
        len = e & 255;
        s = e >> 8;
    } else {
        s = slow_symbol(t, b, &len);
        if (s < 0) return -1;
    }
    drop(b, len);
    *diff = 0;
    if (s) { /* s <= 15: len + s <= 31 bits */
        int v = (int)(b->buf >> (64 - s));
        drop(b, s);
        if (v < (1 << (s - 1))) v -= (1 << s) - 1;
        *diff = v;
    }
    return 0;
}

/* The pixel libjpeg's 1x1 inverse DCT gives for a DC coefficient (jidctred.c): the coefficient as its 16-bit
   JCOEF, dequantised, descaled by 8 with rounding, then looked up in its range-limit table, which maps
   -128..127 to 0..255, clamps up to 511 above and 512 below, and wraps beyond (values & 1023). */
static inline uint8_t dc_pixel(int32_t dc, int q) {
    int v = ((int)(int16_t)dc * q + 4) >> 3;
    int i = v & 1023;
    if (i < 128) return (uint8_t)(i + 128);
    if (i < 512) return 255;
    if (i < 896) return 0;
    return (uint8_t)(i - 896);
}

static inline int u16(const uint8_t *p) { return (p[0] << 8) | p[1]; }

typedef struct {
    int id, h, v, tq, td, ta;
} component;

/* Write the luma of the JPEG file data[0..size) at 1/8 scale into out (out_h rows of out_w bytes), which
   must be the 1/8 size rounded up, ceil(width / 8) x ceil(height / 8). Returns 0 when done, 1 when declined
   (out is then left in an undefined state). */
int jdc_luma(const uint8_t *data, int64_t size, uint8_t *out, int out_w, int out_h) {
    huff *tables = calloc(8, sizeof(huff)); /* DC 0-3, then AC 0-3 */
    uint8_t quant0[4];                      /* the first (DC) entry of each quantisation table */
    int quant_defined[4] = {0};
    component comp[3];
    int order[3]; /* the frame's components in scan order */
    int ncomp = 0, width = 0, height = 0, restart = 0, declined = 1, own = 0;
    uint8_t *clean = NULL;
    int64_t *seg = NULL;
    if (!tables) return 1;
    const uint8_t *p = data, *end = data + size;
    if (size < 4 || p[0] != 0xFF || p[1] != 0xD8) goto done;
    p += 2;
    for (;;) { /* markers up to the start of the scan */
        if (end - p < 2 || p[0] != 0xFF) goto done;
        while (p < end && *p == 0xFF) p++; /* fill bytes */
        if (end - p < 3) goto done;
        int m = *p++;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* markers without data, ignored by libjpeg */
        int len = u16(p);
        if (len < 2 || end - p < len) goto done;
        const uint8_t *q = p + 2, *qend = p + len;
        p += len;
        if (m == 0xC0 || m == 0xC1) { /* start of frame: baseline or extended, Huffman-coded */
            if (ncomp || qend - q < 6 || q[0] != 8) goto done;
            height = u16(q + 1);
            width = u16(q + 3);
            ncomp = q[5];
            q += 6;
            if (height == 0 || width == 0 || (ncomp != 1 && ncomp != 3) || qend - q != 3 * ncomp) goto done;
            int blocks = 0;
            for (int i = 0; i < ncomp; i++, q += 3) {
                comp[i] = (component){.id = q[0], .h = q[1] >> 4, .v = q[1] & 15, .tq = q[2]};
                if (comp[i].h < 1 || comp[i].h > 4 || comp[i].v < 1 || comp[i].v > 4 || comp[i].tq > 3) goto done;
                for (int j = 0; j < i; j++)
                    if (comp[j].id == comp[i].id) goto done;
                blocks += comp[i].h * comp[i].v;
            }
            if (blocks > 10) goto done;
            /* libjpeg takes components named R, G, B for RGB, not luma and chroma */
            if (ncomp == 3 && comp[0].id == 'R' && comp[1].id == 'G' && comp[2].id == 'B') goto done;
        } else if (m == 0xDB) { /* quantisation tables */
            while (q < qend) {
                int pq = q[0] >> 4, tq = q[0] & 15;
                if (tq > 3 || pq != 0 || qend - q < 65) goto done;
                quant0[tq] = q[1];
                quant_defined[tq] = 1;
                q += 65;
            }
        } else if (m == 0xC4) { /* Huffman tables */
            while (q < qend) {
                if (qend - q < 17) goto done;
                int tc = q[0] >> 4, th = q[0] & 15, n = 0;
                if (tc > 1 || th > 3) goto done;
                for (int i = 0; i < 16; i++) n += q[1 + i];
                if (n > 256 || qend - q < 17 + n) goto done;
                if (build(&tables[tc * 4 + th], q + 1, q + 17, n, tc)) goto done;
                q += 17 + n;
            }
        } else if (m == 0xDD) { /* restart interval */
            if (qend - q != 2) goto done;
            restart = u16(q);
        } else if (m == 0xDA) { /* start of scan */
            if (!ncomp || qend - q != 4 + 2 * ncomp || q[0] != ncomp) goto done;
            for (int i = 0; i < ncomp; i++) {
                int id = q[1 + 2 * i], t = q[2 + 2 * i], f = -1;
                for (int j = 0; j < ncomp; j++)
                    if (comp[j].id == id) f = j;
                for (int j = 0; j < i; j++)
                    if (order[j] == f) f = -1;
                if (f < 0) goto done;
                order[i] = f;
                comp[f].td = t >> 4;
                comp[f].ta = t & 15;
                if (comp[f].td > 3 || comp[f].ta > 3 || !tables[comp[f].td].defined ||
                    !tables[4 + comp[f].ta].defined) goto done;
            }
            q += 1 + 2 * ncomp;
            if (q[0] != 0 || q[1] != 63 || q[2] != 0 || !quant_defined[comp[0].tq]) goto done;
            break;
        } else if (!(m >= 0xE0 && m <= 0xEF && m != 0xEE) && m != 0xFE) {
            goto done; /* not an application segment or a comment (APP14, Adobe: a colour transform) */
        }
    }

    int hmax = 1, vmax = 1;
    for (int i = 0; i < ncomp; i++) {
        if (comp[i].h > hmax) hmax = comp[i].h;
        if (comp[i].v > vmax) vmax = comp[i].v;
    }
    int64_t mcux, mcuy;
    if (ncomp == 1) { /* a single component is coded block by block, whatever its sampling factors */
        mcux = (width + 7) / 8;
        mcuy = (height + 7) / 8;
    } else {
        if (comp[0].h != hmax || comp[0].v != vmax) goto done; /* luma itself subsampled */
        mcux = (width + 8 * hmax - 1) / (8 * hmax);
        mcuy = (height + 8 * vmax - 1) / (8 * vmax);
    }
    if (out_w != (width + 7) / 8 || out_h != (height + 7) / 8) goto done;
    const int64_t mcus = mcux * mcuy;
    const int64_t intervals = restart ? (mcus + restart - 1) / restart : 1;
    if (intervals - 1 > (end - p) / 2) goto done; /* not enough data for the restart markers */

    /* The scan data without its byte stuffing (0xFF 0x00 is 0xFF), one segment per restart interval. */
    const size_t need = (size_t)(end - p) + PAD;
    if (need <= KEEP && !atomic_flag_test_and_set(&kept_busy)) {
        if (kept_size < need) {
            free(kept);
            kept_size = need > (1 << 20) ? need : (1 << 20);
            kept = malloc(kept_size);
            if (!kept) kept_size = 0;
        }
        if (kept) {
            clean = kept;
            own = 1;
        } else {
            atomic_flag_clear(&kept_busy);
        }
    }
    if (!clean) clean = malloc(need);
    seg = malloc(sizeof(int64_t) * (size_t)(intervals + 1));
    if (!clean || !seg) goto done;
    int64_t n = 0, found = 1;
    int eoi = 0;
    seg[0] = 0;
    while (p < end) {
        const uint8_t *ff = memchr(p, 0xFF, (size_t)(end - p));
        const uint8_t *stop = ff ? ff : end;
        memcpy(clean + n, p, (size_t)(stop - p));
        n += stop - p;
        p = stop;
        if (!ff || end - p < 2) break;
        int b = p[1];
        if (b == 0x00) {
            clean[n++] = 0xFF;
            p += 2;
        } else if (b == 0xFF) {
            p += 1;
        } else if (b >= 0xD0 && b <= 0xD7) {
            if (found >= intervals || b != 0xD0 + (found - 1) % 8) goto done;
            seg[found++] = n;
            p += 2;
        } else {
            eoi = b == 0xD9;
            break;
        }
    }
    if (found != intervals || !eoi) goto done;
    seg[intervals] = n;
    memset(clean + n, 0, PAD);

    const int q0 = quant0[comp[0].tq];
    int64_t mcu = 0;
    for (int64_t iv = 0; iv < intervals; iv++) {
        bits b = {0, 0, clean + seg[iv]};
        const int64_t limit = seg[iv + 1] * 8; /* in bits from the start of clean */
        int32_t dc = 0;
        int64_t last = restart ? mcu + restart : mcus;
        if (last > mcus) last = mcus;
        for (; mcu < last; mcu++) {
            const int64_t my = mcu / mcux, mx = mcu % mcux;
            for (int s = 0; s < ncomp; s++) {
                const int c = order[s];
                const huff *dct = &tables[comp[c].td], *act = &tables[4 + comp[c].ta];
                const int bh = ncomp == 1 ? 1 : comp[c].h, bv = ncomp == 1 ? 1 : comp[c].v;
                for (int i = 0; i < bv; i++) {
                    for (int j = 0; j < bh; j++) {
                        int diff;
                        if (dc_diff(dct, &b, &diff) || skip_ac(act, &b)) goto done;
                        if (c == 0) {
                            dc = (int32_t)((uint32_t)dc + (uint32_t)diff); /* wraps, as libjpeg's does */
                            const int64_t row = my * bv + i, col = mx * bh + j;
                            if (row < out_h && col < out_w) out[row * out_w + col] = dc_pixel(dc, q0);
                        }
                    }
                }
            }
            if ((b.p - clean) * 8 - b.nbits > limit) goto done; /* ran past its data */
        }
        /* an encoder pads an interval's last byte with at most 7 bits: more left over is not ours to judge */
        if (limit - ((b.p - clean) * 8 - b.nbits) > 7) goto done;
    }
    declined = 0;
done:
    free(tables);
    if (own) atomic_flag_clear(&kept_busy); else free(clean);
    free(seg);
    return declined;
}
