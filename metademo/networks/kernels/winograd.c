/* Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016), the two data transforms that the
   weight gradient of a 3x3 convolution (stride 1, zero padding 1) needs.

   The output of such a convolution splits into 2x2 tiles; tile t reads the 4x4 input patch d_t that
   starts one row and one column before it. With B, G, A the F(2x2, 3x3) matrices,
       y_t = A' [ (G w G') * (B' d_t B) ] A         (* elementwise, per output and input channel),
   so the gradient of the 3x3 filter w is
       dw = G' [ sum_t (A dy_t A') * (B' d_t B) ] G,
   sixteen matrix products (one per position of the 4x4 Winograd domain) over the tiles instead of
   nine (one per filter tap) over the pixels: 4 multiply-adds per pixel and channel pair instead of 9.
   The products run in torch (BLAS); the transforms, a few additions per value, run here.

   Layouts: images are channels-last, (N, H, W, C) contiguous. Tiles are numbered t = 0 .. T-1 in the
   order (image, tile row, tile column), T = N * ceil(H/2) * ceil(W/2); pixels outside the image count
   as zeros, so odd H or W are fine. Each function transforms the tiles [t0, t1) into 16 planes of
   (t1 - t0, C) values, `plane` floats apart (a caller-chosen stride of at least (t1 - t0) * C: planes
   a multiple of 4 KiB apart would send the 16 values of a tile to the same cache sets), so that a
   caller can work through the tiles in cache-sized chunks. */
#include <stdint.h>

#define MAXC 1024
static const float zeros[MAXC];

/* The C values of pixel (y, z) of image n, or zeros outside the image. */
static const float *pixel(const float *x, int n, int H, int W, int C, int y, int z) {
    return (y >= 0 && y < H && z >= 0 && z < W) ? x + (((int64_t)n * H + y) * W + z) * C : zeros;
}

/* V[k][t - t0][c] = (B' d_t B)[k], B' = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
int wg_input(const float *x, int N, int H, int W, int C, int64_t t0, int64_t t1, int64_t plane, float *V) {
    int th = (H + 1) / 2, tw = (W + 1) / 2;
    if (C > MAXC || t0 < 0 || t1 > (int64_t)N * th * tw || plane < (t1 - t0) * C) return 1;
    for (int64_t t = t0; t < t1; t++) {
        int n = (int)(t / ((int64_t)th * tw)), i = (int)(t / tw % th), j = (int)(t % tw);
        const float *p[16];
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++) p[r * 4 + s] = pixel(x, n, H, W, C, 2 * i - 1 + r, 2 * j - 1 + s);
        float *restrict out = V + (t - t0) * C;
        for (int c = 0; c < C; c++) {
            float d[16], u[16];
            for (int k = 0; k < 16; k++) d[k] = p[k][c];
            for (int s = 0; s < 4; s++) { /* B' d */
                u[0 + s] = d[0 + s] - d[8 + s];
                u[4 + s] = d[4 + s] + d[8 + s];
                u[8 + s] = d[8 + s] - d[4 + s];
                u[12 + s] = d[4 + s] - d[12 + s];
            }
            for (int r = 0; r < 4; r++) { /* (B' d) B */
                const float *ur = u + 4 * r;
                out[(4 * r + 0) * plane + c] = ur[0] - ur[2];
                out[(4 * r + 1) * plane + c] = ur[1] + ur[2];
                out[(4 * r + 2) * plane + c] = ur[2] - ur[1];
                out[(4 * r + 3) * plane + c] = ur[1] - ur[3];
            }
        }
    }
    return 0;
}

/* M[k][t - t0][o] = (A g_t A')[k] for the 2x2 tiles g_t of the output gradient (N, H, W, O),
   A = [1 0; 1 1; 1 -1; 0 -1]. */
int wg_grad_output(const float *g, int N, int H, int W, int O, int64_t t0, int64_t t1, int64_t plane, float *M) {
    int th = (H + 1) / 2, tw = (W + 1) / 2;
    if (O > MAXC || t0 < 0 || t1 > (int64_t)N * th * tw || plane < (t1 - t0) * O) return 1;
    for (int64_t t = t0; t < t1; t++) {
        int n = (int)(t / ((int64_t)th * tw)), i = (int)(t / tw % th), j = (int)(t % tw);
        const float *p[4];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) p[a * 2 + b] = pixel(g, n, H, W, O, 2 * i + a, 2 * j + b);
        float *restrict out = M + (t - t0) * O;
        for (int o = 0; o < O; o++) {
            float g00 = p[0][o], g01 = p[1][o], g10 = p[2][o], g11 = p[3][o];
            float u[4][2] = {{g00, g01}, {g00 + g10, g01 + g11}, {g00 - g10, g01 - g11}, {-g10, -g11}};
            for (int r = 0; r < 4; r++) {
                out[(4 * r + 0) * plane + o] = u[r][0];
                out[(4 * r + 1) * plane + o] = u[r][0] + u[r][1];
                out[(4 * r + 2) * plane + o] = u[r][0] - u[r][1];
                out[(4 * r + 3) * plane + o] = -u[r][1];
            }
        }
    }
    return 0;
}
