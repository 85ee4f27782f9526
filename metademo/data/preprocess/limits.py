"""The budgets and settings of preprocessing: module constants, read at each call (a test or a deployment may
change them here)."""

from __future__ import annotations

#: Files (paths, bytes, file-like objects, data URLs) larger than this are refused.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Images decoded at full size have at most this many pixels: every format but JPEG (PNG, WebP, GIF, BMP,
#: TIFF... have no reduced decoding), JPEGs that :func:`open_image` returns whole, and PIL images and arrays
#: passed in. 25 million takes a 6K screen's screenshot (20.4 MP), a 24-megapixel camera's image saved as PNG
#: and a page scanned at 400 dpi. Pillow keeps 1 to 4 bytes per pixel and preprocessing converts and shrinks
#: a band of rows at a time, so one image at the limit adds about 150 MB to the process at its peak (measured).
MAX_PIXELS = 25_000_000
#: JPEG files (photos) that :func:`preprocess` decodes at reduced size (1/2 to 1/8, in libjpeg) may be larger:
#: a 48- or 64-megapixel phone photo decodes as 1000 x 750 or 1156 x 867 pixels. libjpeg still reads every
#: coefficient, so the time grows with the size; below Pillow's own warning (89 MP), above every phone but
#: those with 108- or 200-megapixel modes.
MAX_JPEG_PIXELS = 80_000_000
#: A progressive JPEG (or one whose colours come in separate scans) is kept whole in memory as coefficients,
#: 2 bytes per sample (a pixel has 1.5 samples in a phone photo's 4:2:0 sampling, 3 in 4:4:4), whatever the
#: size it decodes at: such files may have at most this many samples (160 MB): 53 megapixels at 4:2:0,
#: 26 at 4:4:4.
MAX_JPEG_SAMPLES = 80_000_000
#: ... and at most this many scans (start-of-scan markers anywhere in the file): libjpeg goes over the
#: coefficients once per scan. Encoders write 10 or so; thousands of tiny scans would take minutes.
MAX_JPEG_SCANS = 32
#: One call of :func:`preprocess_batch` (one request of the app or the API) decodes at most this many pixels
#: in all, so that it takes a few seconds at most (full-size decoding costs about 10 ms per megapixel on one
#: of the development machine's cores). A JPEG decoded at reduced size counts what its decoding costs in
#: the same currency (measured): a quarter of its pixels, or a fifth of them per scan for a progressive one.
#: 200 million: 8 images at :data:`MAX_PIXELS`, 66 12-megapixel phone photos, 18,000 Omniglot drawings.
MAX_BATCH_PIXELS = 200_000_000
#: libtiff decompresses a TIFF's strip or tile whole before Pillow unpacks it: at most this many bytes. A
#: 25-megapixel RGB image in one strip has 75 MB; a 16-bit RGBA one 200 MB, on top of Pillow's 100.
MAX_TIFF_STRIP_BYTES = 80 * 2**20
#: Pillow reads the chunks of a PNG, the segments of a JPEG header and the blocks of a GIF header one at a
#: time in Python (and joins a GIF's comment blocks one by one, in quadratic time): files with more than
#: this many are refused before Pillow sees them. Real files have a few dozen (a PNG's data in 8 KB chunks:
#: 2,600 for 20 MB; an uncompressed TIFF, one per strip).
MAX_BLOCKS = 20_000
#: Sub-blocks of a GIF's extensions before its first image (Pillow joins comments in quadratic time): real
#: files have a few, a hundred with XMP metadata.
MAX_GIF_BLOCKS = 1_000
#: The formats read: what browsers, phones, scanners and paint programs write. The other formats Pillow
#: opens are refused: each is one more decoder that strangers' files would reach, for images no one sends
#: (EPS runs Ghostscript; an ICO's embedded PNG may be far larger than its header says). BMP files
#: compressed by run lengths are refused too: Pillow decodes them in Python, a run at a time.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")
#: After normalisation, pixels above this value count as ink for the bounding box.
INK_THRESHOLD = 0.2
#: Fraction of the output square taken by the longer side of the ink's bounding box.
FILL = 0.8
#: Big images are box-averaged down to at most this many pixels on their longer side first:
#: plenty for a 28x28 result (JPEGs: see JPEG_WORK_SIZE).
WORK_SIZE = 1024
#: Smallest ink/background contrast (on a 0-1 scale) that is not considered blank.
MIN_CONTRAST = 0.1
#: JPEGs (photos) are worked on at most this many pixels on their longer side instead of WORK_SIZE. The file
#: is decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself (DCT scaling: it never computes the full-size
#: pixels) as long as the longer side stays at least this long, then box-averaged down like other big
#: images. A 12-megapixel photo decodes at 500x375 in a quarter of the time and is worked on at 250x188.
#: The 28x28 result differs from full-size decoding by a few grey levels at the edges of the strokes.
JPEG_WORK_SIZE = 256
#: Big images are converted and shrunk this many pixels at a time (a band of rows), so that no full-size
#: copy is made (Pillow's shrinking of an image with alpha makes one, premultiplied).
BAND_PIXELS = 1 << 21
#: A batch with at least two encoded files (paths, bytes, data URLs) of this size or more, phone photos, is
#: preprocessed on two threads: decoding them releases the GIL, so two cores take about half the time (small
#: files would only contend for the GIL, and stay on one thread).
PARALLEL_BYTES = 256 * 1024
