/* Conv-4's first block on single-channel images: the 3x3 convolution and the 2x2 max-pool fused.

   Layouts: x is (B, H, W); filters are (10, C), row t < 9 the filter tap (t / 3, t % 3), row 9 the
   bias; window maxima m and their positions (0..3, row-major in the window; the first of equal values
   wins, as in torch.nn.functional.max_pool2d), the block's output and its gradient are all
   (B, H/2 * W/2, C): the output is channels-last (NHWC), the layout oneDNN's next convolution reads
   without a reorder.
   H and W are even. Every function handles images [b0, b1) so that callers may split the work. */
#include <stdint.h>
#include <string.h>

#define MAXC 1024

static void patch(const float *x, int H, int W, int r, int s, float *u) {
    int t = 0;
    for (int dr = -1; dr <= 1; dr++)
        for (int ds = -1; ds <= 1; ds++, t++) {
            int rr = r + dr, ss = s + ds;
            u[t] = (rr >= 0 && rr < H && ss >= 0 && ss < W) ? x[rr * W + ss] : 0.0f;
        }
    u[9] = 1.0f;
}

/* Window maxima m of the convolution with the filters f, their positions, and the block's output
   out = relu(scale * (m - shift) + beta), (B, H/2 * W/2, C), with per-image, per-channel scale and shift
   (B, C) and per-channel beta (C). */
int fb_forward(const float *x, int b0, int b1, int H, int W, const float *f, int C, const float *scale,
               const float *shift, const float *beta, float *out, float *m, uint8_t *code) {
    if (C > MAXC) return 1;
    float z[4][MAXC], where[MAXC];
    int h = H / 2, w = W / 2, n = h * w;
    for (int b = b0; b < b1; b++) {
        const float *xb = x + (int64_t)b * H * W;
        const float *restrict sc = scale + (int64_t)b * C, *restrict sh = shift + (int64_t)b * C;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                float u[4][10];
                for (int k = 0; k < 4; k++) patch(xb, H, W, 2 * i + k / 2, 2 * j + k % 2, u[k]);
                for (int k = 0; k < 4; k++) {
                    float *zk = z[k];
                    for (int c = 0; c < C; c++) zk[c] = 0.0f;
                    for (int t = 0; t < 10; t++) {
                        const float *ft = f + t * C;
                        float ut = u[k][t];
                        for (int c = 0; c < C; c++) zk[c] += ft[c] * ut;
                    }
                }
                int64_t o = ((int64_t)b * n + i * w + j) * C;
                float *restrict mo = m + o, *restrict oo = out + o;
                /* Branch-free, in float lanes, so that the compiler vectorises over channels. */
                for (int c = 0; c < C; c++) {
                    float best = z[0][c], arg = 0.0f;
                    for (int k = 1; k < 4; k++) {
                        float v = z[k][c];
                        int better = v > best;  /* strict: the first of equal values wins */
                        best = better ? v : best;
                        arg = better ? (float)k : arg;
                    }
                    mo[c] = best;
                    where[c] = arg;
                    float v = sc[c] * (best - sh[c]) + beta[c];
                    oo[c] = v > 0.0f ? v : 0.0f;
                }
                uint8_t *restrict co = code + o;
                for (int c = 0; c < C; c++) co[c] = (uint8_t)where[c];
            }
    }
    return 0;
}

/* Given the output's gradient gout (B, H/2 * W/2, C): gf (10, C) += the filters' gradient through the
   maxima, and per image and channel, sum_ga (B, C) = sum of the gradient after the ReLU and sum_gam
   (B, C) = the same weighted by m, from which the caller differentiates scale, shift and beta. */
int fb_backward(const float *x, int b0, int b1, int H, int W, const uint8_t *code, const float *m,
                const float *gout, const float *scale, const float *shift, const float *beta, int C,
                double *gf, double *sum_ga, double *sum_gam) {
    if (C > MAXC) return 1;
    float acc[10][MAXC];
    float gm[MAXC], gk[MAXC];
    int h = H / 2, w = W / 2, n = h * w;
    for (int b = b0; b < b1; b++) {
        const float *xb = x + (int64_t)b * H * W;
        const float *sc = scale + (int64_t)b * C, *sh = shift + (int64_t)b * C;
        double *sa = sum_ga + (int64_t)b * C, *sam = sum_gam + (int64_t)b * C;
        memset(acc, 0, sizeof(acc));
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int win = i * w + j;
                int64_t o = ((int64_t)b * n + win) * C;
                const float *mo = m + o;
                const uint8_t *co = code + o;
                for (int c = 0; c < C; c++) {
                    float v = sc[c] * (mo[c] - sh[c]) + beta[c];
                    float ga = v > 0.0f ? gout[o + c] : 0.0f;
                    sa[c] += ga;
                    sam[c] += (double)ga * mo[c];
                    gm[c] = ga * sc[c];
                }
                for (int k = 0; k < 4; k++) {
                    float u[10];
                    patch(xb, H, W, 2 * i + k / 2, 2 * j + k % 2, u);
                    for (int c = 0; c < C; c++) gk[c] = co[c] == k ? gm[c] : 0.0f;
                    for (int t = 0; t < 10; t++) {
                        float ut = u[t];
                        if (ut == 0.0f) continue;
                        float *at = acc[t];
                        for (int c = 0; c < C; c++) at[c] += gk[c] * ut;
                    }
                }
            }
        for (int t = 0; t < 10; t++)
            for (int c = 0; c < C; c++) gf[t * C + c] += acc[t][c];
    }
    return 0;
}

/* Per image: sum (10) and sum of outer products (10 x 10) of the patches at all H * W pixels. */
int fb_moments(const float *x, int b0, int b1, int H, int W, double *sum, double *outer) {
    for (int b = b0; b < b1; b++) {
        const float *xb = x + (int64_t)b * H * W;
        double s[10] = {0}, g[10][10] = {{0}};
        for (int r = 0; r < H; r++)
            for (int q = 0; q < W; q++) {
                float u[10];
                patch(xb, H, W, r, q, u);
                for (int t = 0; t < 10; t++) {
                    s[t] += u[t];
                    for (int v = t; v < 10; v++) g[t][v] += (double)u[t] * u[v];
                }
            }
        for (int t = 0; t < 10; t++) {
            sum[b * 10 + t] = s[t];
            for (int v = 0; v < 10; v++) outer[(b * 10 + t) * 10 + v] = v >= t ? g[t][v] : g[v][t];
        }
    }
    return 0;
}
