/* Conv-4's first block on single-channel images: the 3x3 convolution and the 2x2 max-pool fused.

   Layouts: x is (B, H, W); filters are (10, C), row t < 9 the filter tap (t / 3, t % 3), row 9 the
   bias; window maxima m and their positions (0..3, row-major in the window; the first of equal values
   wins, as in torch.nn.functional.max_pool2d), the block's output and its gradient are all
   (B, H/2 * W/2, C): the output is channels-last (NHWC), the layout oneDNN's next convolution reads
   without a reorder.
   H and W are even. Every function handles images [b0, b1) so that callers may split the work.

   The loops over channels are the innermost ones and carry no branches, so that the compiler
   vectorises them; the 10 filter rows inside them are written out (TAP) and the window's patches held
   in scalars (U), so that the four candidates of a window stay in registers. Each image is first copied
   into a zero-padded buffer, so that reading a patch needs no bounds checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXC 1024

/* x's image b, zero-padded by one pixel on every side, into pad ((H + 2) x (W + 2)). */
static void pad_image(const float *x, int b, int H, int W, float *pad) {
    const float *xb = x + (int64_t)b * H * W;
    memset(pad, 0, sizeof(float) * (H + 2) * (W + 2));
    for (int r = 0; r < H; r++) memcpy(pad + (r + 1) * (W + 2) + 1, xb + r * W, sizeof(float) * W);
}

/* The 3x3 patches (and a 1) of the four pixels of pooling window (i, j), from the padded image. */
static void window_patches(const float *pad, int W, int i, int j, float u[4][10]) {
    for (int k = 0; k < 4; k++) {
        const float *p = pad + (2 * i + k / 2) * (W + 2) + 2 * j + k % 2;  /* the patch's top-left */
        for (int t = 0; t < 9; t++) u[k][t] = p[(t / 3) * (W + 2) + t % 3];
        u[k][9] = 1.0f;
    }
}

/* Window maxima m of the convolution with the filters f, their positions, and the block's output
   out = relu(scale * (m - shift) + beta), (B, H/2 * W/2, C), with per-image, per-channel scale and shift
   (B, C) and per-channel beta (C). */
int fb_forward(const float *x, int b0, int b1, int H, int W, const float *restrict f, int C, const float *scale,
               const float *shift, const float *beta, float *out, float *m, uint8_t *code) {
    if (C > MAXC) return 1;
    float *pad = malloc(sizeof(float) * (H + 2) * (W + 2));
    if (!pad) return 2;
    float where[MAXC];
    int h = H / 2, w = W / 2, n = h * w;
    for (int b = b0; b < b1; b++) {
        pad_image(x, b, H, W, pad);
        const float *restrict sc = scale + (int64_t)b * C, *restrict sh = shift + (int64_t)b * C;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                float u[4][10];
                window_patches(pad, W, i, j, u);
                int64_t o = ((int64_t)b * n + i * w + j) * C;
                float *restrict mo = m + o, *restrict oo = out + o;
#define U(t) const float a##t = u[0][t], b##t = u[1][t], c##t = u[2][t], d##t = u[3][t];
                U(0) U(1) U(2) U(3) U(4) U(5) U(6) U(7) U(8) U(9)
#undef U
                for (int c = 0; c < C; c++) {
                    float z0 = 0.0f, z1 = 0.0f, z2 = 0.0f, z3 = 0.0f;
#define TAP(t) { float ft = f[(t) * C + c]; z0 += ft * a##t; z1 += ft * b##t; z2 += ft * c##t; z3 += ft * d##t; }
                    TAP(0) TAP(1) TAP(2) TAP(3) TAP(4) TAP(5) TAP(6) TAP(7) TAP(8) TAP(9)
#undef TAP
                    /* strict comparisons: the first of equal values wins */
                    float best = z0, arg = 0.0f;
                    arg = z1 > best ? 1.0f : arg;
                    best = z1 > best ? z1 : best;
                    arg = z2 > best ? 2.0f : arg;
                    best = z2 > best ? z2 : best;
                    arg = z3 > best ? 3.0f : arg;
                    best = z3 > best ? z3 : best;
                    mo[c] = best;
                    where[c] = arg;
                    float v = sc[c] * (best - sh[c]) + beta[c];
                    oo[c] = v > 0.0f ? v : 0.0f;
                }
                uint8_t *restrict co = code + o;
                for (int c = 0; c < C; c++) co[c] = (uint8_t)where[c];
            }
    }
    free(pad);
    return 0;
}

/* Given the output's gradient gout (B, H/2 * W/2, C): gf (10, C) += the filters' gradient through the
   maxima, and per image and channel, sum_ga (B, C) = sum of the gradient after the ReLU and sum_gam
   (B, C) = the same weighted by m, from which the caller differentiates scale, shift and beta. */
int fb_backward(const float *x, int b0, int b1, int H, int W, const uint8_t *code, const float *m,
                const float *gout, const float *scale, const float *shift, const float *beta, int C,
                double *gf, double *sum_ga, double *sum_gam) {
    if (C > MAXC) return 1;
    float *pad = malloc(sizeof(float) * (H + 2) * (W + 2));
    float (*acc)[MAXC] = malloc(sizeof(float[10][MAXC]));
    if (!pad || !acc) {
        free(pad);
        free(acc);
        return 2;
    }
    float gmax[MAXC];
    int h = H / 2, w = W / 2, n = h * w;
    for (int b = b0; b < b1; b++) {
        pad_image(x, b, H, W, pad);
        const float *restrict sc = scale + (int64_t)b * C, *restrict sh = shift + (int64_t)b * C;
        double *restrict sa = sum_ga + (int64_t)b * C, *restrict sam = sum_gam + (int64_t)b * C;
        memset(acc, 0, sizeof(float[10][MAXC]));
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                float u[4][10];
                window_patches(pad, W, i, j, u);
                int64_t o = ((int64_t)b * n + i * w + j) * C;
                const float *restrict mo = m + o, *restrict go = gout + o;
                const uint8_t *restrict co = code + o;
#define U(t) const float a##t = u[0][t], b##t = u[1][t], c##t = u[2][t], d##t = u[3][t];
                U(0) U(1) U(2) U(3) U(4) U(5) U(6) U(7) U(8) U(9)
#undef U
                for (int c = 0; c < C; c++) {
                    float v = sc[c] * (mo[c] - sh[c]) + beta[c];
                    float ga = v > 0.0f ? go[c] : 0.0f;
                    sa[c] += ga;
                    sam[c] += (double)ga * mo[c];
                    gmax[c] = ga * sc[c];
                }
                for (int c = 0; c < C; c++) {
                    float gm = gmax[c], k = (float)co[c];
                    float g0 = k == 0.0f ? gm : 0.0f, g1 = k == 1.0f ? gm : 0.0f;
                    float g2 = k == 2.0f ? gm : 0.0f, g3 = k == 3.0f ? gm : 0.0f;
#define TAP(t) acc[t][c] += g0 * a##t + g1 * b##t + g2 * c##t + g3 * d##t;
                    TAP(0) TAP(1) TAP(2) TAP(3) TAP(4) TAP(5) TAP(6) TAP(7) TAP(8) TAP(9)
#undef TAP
                }
            }
        for (int t = 0; t < 10; t++)
            for (int c = 0; c < C; c++) gf[t * C + c] += acc[t][c];
    }
    free(pad);
    free(acc);
    return 0;
}

/* Per image: sum (10) and sum of outer products (10 x 10) of the patches at all H * W pixels. Entry
   (t, v) of the outer products is the dot product of the padded image shifted by taps t and v, summed
   in double per column (an elementwise loop, which vectorises; a plain reduction would not) and then
   over the columns. */
int fb_moments(const float *x, int b0, int b1, int H, int W, double *sum, double *outer) {
    float *pad = malloc(sizeof(float) * (H + 2) * (W + 2));
    double *col = malloc(sizeof(double) * W);
    if (!pad || !col) {
        free(pad);
        free(col);
        return 2;
    }
    for (int b = b0; b < b1; b++) {
        pad_image(x, b, H, W, pad);
        double s[10], g[10][10];
        for (int t = 0; t < 9; t++) {
            const float *pt = pad + (t / 3) * (W + 2) + t % 3;
            for (int v = t; v < 9; v++) {
                const float *pv = pad + (v / 3) * (W + 2) + v % 3;
                for (int q = 0; q < W; q++) col[q] = 0.0;
                for (int r = 0; r < H; r++) {
                    const float *restrict a = pt + r * (W + 2), *restrict c = pv + r * (W + 2);
                    for (int q = 0; q < W; q++) col[q] += (double)a[q] * c[q];
                }
                double total = 0.0;
                for (int q = 0; q < W; q++) total += col[q];
                g[t][v] = g[v][t] = total;
            }
            for (int q = 0; q < W; q++) col[q] = 0.0;
            for (int r = 0; r < H; r++)
                for (int q = 0; q < W; q++) col[q] += pt[r * (W + 2) + q];
            double total = 0.0;
            for (int q = 0; q < W; q++) total += col[q];
            s[t] = total;
        }
        s[9] = (double)H * W;
        for (int t = 0; t < 9; t++) g[t][9] = g[9][t] = s[t];
        g[9][9] = s[9];
        for (int t = 0; t < 10; t++) {
            sum[b * 10 + t] = s[t];
            for (int v = 0; v < 10; v++) outer[(b * 10 + t) * 10 + v] = g[t][v];
        }
    }
    free(pad);
    free(col);
    return 0;
}
