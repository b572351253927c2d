/*
 * _ckernels.c - optional compiled kernels for the merge tree of the feature parameters
 * and for the decay lengths of the autocorrelation (Sal, Str).
 *
 * surfscan.iso25178._merge_tree and ._acf_kernels compute the same results in numpy
 * and scipy; they use these functions when this extension was built at install time
 * (setup.py declares it optional, so an install without a C compiler falls back to
 * numpy), and SURFSCAN_PURE_NUMPY=1 makes them ignore it (surfscan.iso25178._native).
 * The merge-tree steps are inherently sequential (following pointers, union-find),
 * which numpy can only emulate in rounds of whole-array operations; here each is one
 * or two passes in O(n) or O(m log m). The spline samples along the rays of the
 * autocorrelation are many small evaluations, where a loop beats a general routine.
 *
 * Plain CPython C API: arrays come in through the buffer protocol (C-contiguous;
 * the Python side passes arrays of the dtypes named below, and every length is
 * checked here), so no numpy header is needed to build. Every kernel releases the
 * GIL while it works, so that the hills and the dales run side by side in threads.
 *
 * Conventions shared with the numpy code:
 *   - points are ordered by (height, flat index): ties go to the smaller index;
 *   - dales of h are found; hills are the dales of h = -z (sign = -1);
 *   - basin ids follow the raster order of their pits, -1 marks a non-measured point;
 *   - an edge (lo < hi, saddle) joins two 8-adjacent basins at the lowest level
 *     max(h_p, h_q) over their touching point pairs p, q;
 *   - the merge tree takes edges in the order (saddle, position in the edge arrays).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fails with ValueError unless the buffer holds exactly `count` items of `itemsize` bytes. */
static int
check_length(const Py_buffer *b, Py_ssize_t count, Py_ssize_t itemsize, const char *name)
{
    if (b->len != count * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, expected %zd items of %zd bytes", name, b->len, count,
                     itemsize);
        return -1;
    }
    return 0;
}

/* Fails with ValueError unless `ok` (a size or shape outside what the kernels handle); returns -1 then. */
static int
check(int ok, const char *what)
{
    if (ok)
        return 0;
    PyErr_Format(PyExc_ValueError, "%s", what);
    return -1;
}

/* ------------------------------------------------------------------------------------------------ */
/* descent(z, ny, nx, low, high): lowest and highest 8-neighbour of every point, itself included.   */
/* ------------------------------------------------------------------------------------------------ */

/*
 * z: float64[ny*nx]; low, high: int32[ny*nx] (out). A non-measured (NaN) point gets -1 in both and is
 * never chosen. The 3 x 3 neighbourhood is visited in increasing flat index and only a strictly lower
 * (higher) value replaces the current choice, so among equal values the smallest index wins.
 */
static PyObject *
descent(PyObject *self, PyObject *args)
{
    Py_buffer zb, lowb, highb;
    Py_ssize_t ny, nx;
    if (!PyArg_ParseTuple(args, "y*nnw*w*", &zb, &ny, &nx, &lowb, &highb))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = ny * nx;
    if (check(ny >= 0 && nx >= 0 && n < INT32_MAX, "shape: negative, or 2**31 points or more") ||
        check_length(&zb, n, 8, "z") || check_length(&lowb, n, 4, "low") ||
        check_length(&highb, n, 4, "high"))
        goto done;
    const double *z = zb.buf;
    int32_t *low = lowb.buf, *high = highb.buf;
    Py_BEGIN_ALLOW_THREADS
    int holes = 0;
    for (Py_ssize_t p = 0; p < n; p++)
        holes |= isnan(z[p]);
    for (Py_ssize_t i = 0; i < ny; i++) {
        Py_ssize_t i0 = i > 0 ? i - 1 : 0, i1 = i + 1 < ny ? i + 1 : ny - 1;
        for (Py_ssize_t j = 0; j < nx; j++) {
            Py_ssize_t p = i * nx + j;
            if (!holes && i0 < i && i < i1 && j > 0 && j + 1 < nx) {
                /* inside a map without holes: the nine points in increasing index, no test for NaN */
                const Py_ssize_t offset[9] = {-nx - 1, -nx, -nx + 1, -1, 0, 1, nx - 1, nx, nx + 1};
                Py_ssize_t lo = p + offset[0], hi = lo;
                double zlo = z[lo], zhi = zlo;
                for (int k = 1; k < 9; k++) {
                    Py_ssize_t q = p + offset[k];
                    double v = z[q];
                    lo = v < zlo ? q : lo;
                    zlo = v < zlo ? v : zlo;
                    hi = v > zhi ? q : hi;
                    zhi = v > zhi ? v : zhi;
                }
                low[p] = (int32_t)lo;
                high[p] = (int32_t)hi;
                continue;
            }
            if (isnan(z[p])) {
                low[p] = high[p] = -1;
                continue;
            }
            Py_ssize_t j0 = j > 0 ? j - 1 : 0, j1 = j + 1 < nx ? j + 1 : nx - 1;
            Py_ssize_t lo = -1, hi = -1;
            double zlo = 0.0, zhi = 0.0;
            for (Py_ssize_t ii = i0; ii <= i1; ii++) {
                for (Py_ssize_t q = ii * nx + j0; q <= ii * nx + j1; q++) {
                    double v = z[q];
                    if (isnan(v))
                        continue;
                    if (lo < 0 || v < zlo) {
                        lo = q;
                        zlo = v;
                    }
                    if (hi < 0 || v > zhi) {
                        hi = q;
                        zhi = v;
                    }
                }
            }
            low[p] = (int32_t)lo;
            high[p] = (int32_t)hi;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&zb);
    PyBuffer_Release(&lowb);
    PyBuffer_Release(&highb);
    return result;
}

/* ------------------------------------------------------------------------------------------------ */
/* basins(down, basin) -> pits: the basin of every point by following the descent pointers.         */
/* ------------------------------------------------------------------------------------------------ */

/*
 * down: int32[n], a point's pointer (itself for a pit, -1 where not measured); basin: int32[n] (out).
 * Returns the pits' flat indices as bytes (int64, one per basin, in raster order = basin id order).
 * Pointers go strictly down in the (height, index) order, so every chain ends at a pit; each chain is
 * walked twice (find its pit, then write the id along it), so the work is O(n).
 */
static PyObject *
basins(PyObject *self, PyObject *args)
{
    Py_buffer downb, basinb;
    if (!PyArg_ParseTuple(args, "y*w*", &downb, &basinb))
        return NULL;
    PyObject *pits = NULL;
    Py_ssize_t n = downb.len / 4;
    if (check(n < INT32_MAX, "down: 2**31 points or more") || check_length(&downb, n, 4, "down") ||
        check_length(&basinb, n, 4, "basin"))
        goto done;
    const int32_t *down = downb.buf;
    int32_t *basin = basinb.buf;
    Py_ssize_t nb = 0, bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t p = 0; p < n; p++) {  /* ids of the pits; -2: not known yet */
        int32_t d = down[p];
        if (d >= n)
            bad = 1;
        basin[p] = d < 0 ? -1 : d == p ? (int32_t)nb++ : -2;
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "down: a pointer outside the map");
        goto done;
    }
    pits = PyBytes_FromStringAndSize(NULL, nb * 8);
    if (pits == NULL)
        goto done;
    int64_t *pit = (int64_t *)PyBytes_AS_STRING(pits);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t p = 0; p < n; p++) {
        if (basin[p] == -2) {
            int32_t q = (int32_t)p;
            while (basin[q] == -2)  /* down to the first point whose basin is known */
                q = down[q];
            int32_t id = basin[q];  /* -1 only if a chain ended on a non-measured point */
            for (q = (int32_t)p; basin[q] == -2; q = down[q])
                basin[q] = id;
        } else if (basin[p] >= 0 && down[p] == p) {
            pit[basin[p]] = p;
        }
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&downb);
    PyBuffer_Release(&basinb);
    return pits;
}

/* ------------------------------------------------------------------------------------------------ */
/* adjacency(z, basin, ny, nx, sign, nb) -> (lo, hi, saddle): the edges of the merge graph.           */
/* ------------------------------------------------------------------------------------------------ */

#define RECENT 4 /* pairs remembered to skip repeats along a row (a power of two) */
#define NO_PAIR UINT64_MAX /* no basin pair: ids are below INT32_MAX */

/* Touching point pairs of two basins (lo < hi) with their saddle, in a growing array. */
typedef struct {
    int32_t *lo, *hi;
    double *saddle;
    int64_t size, capacity;
} Pairs;

static int
pairs_reserve(Pairs *P, int64_t capacity)
{
    int32_t *lo = realloc(P->lo, (size_t)capacity * sizeof(int32_t));
    if (lo != NULL)
        P->lo = lo;
    int32_t *hi = realloc(P->hi, (size_t)capacity * sizeof(int32_t));
    if (hi != NULL)
        P->hi = hi;
    double *saddle = realloc(P->saddle, (size_t)capacity * sizeof(double));
    if (saddle != NULL)
        P->saddle = saddle;
    if (lo == NULL || hi == NULL || saddle == NULL)
        return -1;
    P->capacity = capacity;
    return 0;
}

/* The state of one pass over the touching pairs: the pairs so far and the ones remembered for thinning. */
typedef struct {
    const double *z;
    const int32_t *basin;
    double sign;
    Pairs *P;
    uint64_t recent_key[RECENT];  /* the last stored pairs, as (lo << 32 | hi) */
    int64_t recent_slot[RECENT];
    int oldest;
    uint64_t last_key;  /* the last pair of the current point, and its slot */
    int64_t last_slot;
    int failed;
} Scan;

/*
 * The pair of points p (in basin bp >= 0) and q. A pair of two basins that equals the pair stored at
 * the same column in the row above (above_key, a boundary running down the map) or one of the last
 * RECENT stored pairs only lowers that one's saddle; any other pair is stored.
 */
static inline void
visit(Scan *S, Py_ssize_t p, int32_t bp, Py_ssize_t q, uint64_t above_key, int64_t above_slot)
{
    int32_t bq = S->basin[q];
    if (bq == bp || bq < 0)
        return;
    uint64_t key = bp < bq ? (uint64_t)bp << 32 | (uint32_t)bq : (uint64_t)bq << 32 | (uint32_t)bp;
    double zp = S->z[p], zq = S->z[q];
    double s = S->sign > 0 ? (zp > zq ? zp : zq) : -(zp < zq ? zp : zq);
    int64_t slot = -1;
    if (key == above_key) {
        slot = above_slot;
    } else {
        for (int k = 0; k < RECENT; k++)
            slot = S->recent_key[k] == key ? S->recent_slot[k] : slot;
    }
    Pairs *P = S->P;
    if (slot >= 0) {  /* a repeat: keep the lower saddle */
        if (s < P->saddle[slot])
            P->saddle[slot] = s;
    } else {
        if (P->size == P->capacity && pairs_reserve(P, 2 * P->capacity)) {
            S->failed = 1;
            return;
        }
        slot = P->size++;
        P->lo[slot] = (int32_t)(key >> 32), P->hi[slot] = (int32_t)(key & 0xffffffffu), P->saddle[slot] = s;
        S->recent_key[S->oldest] = key;
        S->recent_slot[S->oldest] = slot;
        S->oldest = (S->oldest + 1) & (RECENT - 1);
    }
    S->last_key = key;
    S->last_slot = slot;
}

/*
 * The touching point pairs of different basins, in one pass over the map: each point with its four
 * forward neighbours (right, down-left, down, down-right), so each 8-adjacent pair once. Repeats of a
 * pair (see visit) are thinned several-fold without losing a basin pair or its lowest saddle.
 * Returns -1 when out of memory.
 */
static int
scan_pairs(const double *z, const int32_t *basin, Py_ssize_t ny, Py_ssize_t nx, double sign, Pairs *P)
{
    Scan S = {z, basin, sign, P, {0}, {0}, 0, NO_PAIR, -1, 0};
    for (int k = 0; k < RECENT; k++)
        S.recent_key[k] = NO_PAIR, S.recent_slot[k] = -1;
    /* the last pair of every column's point in the row above and in this row, and their slots; the columns
       of this row whose point has a forward neighbour in another basin */
    size_t columns = (size_t)(nx ? nx : 1);
    uint64_t *above_key = malloc(columns * sizeof(uint64_t)), *here_key = malloc(columns * sizeof(uint64_t));
    int64_t *above_slot = malloc(columns * sizeof(int64_t)), *here_slot = malloc(columns * sizeof(int64_t));
    Py_ssize_t *crossing = malloc(columns * sizeof(Py_ssize_t));
    if (above_key && here_key && above_slot && here_slot && crossing && !pairs_reserve(P, 1024 + ny * nx / 4)) {
        for (Py_ssize_t j = 0; j < nx; j++)
            above_key[j] = NO_PAIR, above_slot[j] = -1;
        for (Py_ssize_t i = 0; i < ny && !S.failed; i++) {
            const int32_t *b0 = basin + i * nx, *b1 = b0 + nx;  /* this row and the next */
            int last_row = i == ny - 1;
            /* a quick test first (a loop the compiler vectorises): most points lie inside their basin */
            Py_ssize_t count = 0;
            for (Py_ssize_t j = 0; j < nx; j++) {
                int cross = j + 1 < nx && b0[j + 1] != b0[j];
                if (!last_row)
                    cross |= (j > 0 && b1[j - 1] != b0[j]) | (b1[j] != b0[j]) | (j + 1 < nx && b1[j + 1] != b0[j]);
                crossing[count] = j;
                count += cross;
                here_key[j] = NO_PAIR, here_slot[j] = -1;
            }
            for (Py_ssize_t k = 0; k < count; k++) {
                Py_ssize_t j = crossing[k], p = i * nx + j;
                int32_t bp = b0[j];
                if (bp < 0)
                    continue;
                uint64_t ak = above_key[j];
                int64_t as = above_slot[j];
                S.last_key = NO_PAIR, S.last_slot = -1;
                if (j + 1 < nx)
                    visit(&S, p, bp, p + 1, ak, as);
                if (!last_row) {
                    if (j > 0)
                        visit(&S, p, bp, p + nx - 1, ak, as);
                    visit(&S, p, bp, p + nx, ak, as);
                    if (j + 1 < nx)
                        visit(&S, p, bp, p + nx + 1, ak, as);
                }
                here_key[j] = S.last_key, here_slot[j] = S.last_slot;
            }
            uint64_t *tk = above_key;
            above_key = here_key, here_key = tk;
            int64_t *ts = above_slot;
            above_slot = here_slot, here_slot = ts;
        }
    } else {
        S.failed = 1;
    }
    free(crossing);
    free(above_key), free(here_key), free(above_slot), free(here_slot);
    return S.failed ? -1 : 0;
}

typedef struct {
    int32_t hi;
    double saddle;
} Neighbour;

static int
by_hi(const void *x, const void *y)
{
    int32_t a = ((const Neighbour *)x)->hi, b = ((const Neighbour *)y)->hi;
    return (a > b) - (a < b);
}

/* Sorts hi[0..k) (with its saddles) by hi: insertion sort for the usual few, qsort for long lists. */
static int
sort_by_hi(int32_t *hi, double *saddle, int64_t k)
{
    if (k <= 32) {
        for (int64_t x = 1; x < k; x++) {
            int32_t h = hi[x];
            double s = saddle[x];
            int64_t y = x;
            for (; y > 0 && hi[y - 1] > h; y--)
                hi[y] = hi[y - 1], saddle[y] = saddle[y - 1];
            hi[y] = h, saddle[y] = s;
        }
        return 0;
    }
    Neighbour *tmp = malloc((size_t)k * sizeof(Neighbour));
    if (tmp == NULL)
        return -1;
    for (int64_t x = 0; x < k; x++)
        tmp[x].hi = hi[x], tmp[x].saddle = saddle[x];
    qsort(tmp, (size_t)k, sizeof(Neighbour), by_hi);
    for (int64_t x = 0; x < k; x++)
        hi[x] = tmp[x].hi, saddle[x] = tmp[x].saddle;
    free(tmp);
    return 0;
}

/*
 * z: float64[ny*nx]; basin: int32[ny*nx] (ids 0..nb-1, -1 not measured). Returns bytes (lo int32,
 * hi int32, saddle float64): every pair of 8-adjacent basins once, with the lowest level at which
 * flooding h = sign*z joins them (the higher of the two heights of a touching point pair, minimised
 * over the pairs), sorted by (lo, hi). The touching pairs are gathered in one pass (scan_pairs),
 * bucketed by their lower basin (a counting sort), and each bucket is deduplicated with a stamp per
 * higher basin and sorted.
 */
static PyObject *
adjacency(PyObject *self, PyObject *args)
{
    Py_buffer zb, basinb;
    Py_ssize_t ny, nx, nb;
    double sign;
    if (!PyArg_ParseTuple(args, "y*y*nndn", &zb, &basinb, &ny, &nx, &sign, &nb))
        return NULL;
    PyObject *result = NULL;
    Pairs P = {NULL, NULL, NULL, 0, 0};
    int64_t *start = NULL, *where = NULL;
    int32_t *hi = NULL, *stamp = NULL;
    double *saddle = NULL;
    Py_ssize_t n = ny * nx;
    if (check(ny >= 0 && nx >= 0 && nb >= 0 && nb < INT32_MAX && n < INT32_MAX, "shape or nb out of range") ||
        check_length(&zb, n, 8, "z") ||
        check_length(&basinb, n, 4, "basin"))
        goto done;
    const double *z = zb.buf;
    const int32_t *basin = basinb.buf;
    int bad = 0, failed = 0;
    int64_t edges = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t p = 0; p < n; p++)
        bad |= basin[p] >= nb;
    if (!bad)
        failed = scan_pairs(z, basin, ny, nx, sign, &P);
    int64_t total = P.size;
    start = calloc((size_t)nb + 1, sizeof(int64_t));
    where = malloc(((size_t)nb + 1) * sizeof(int64_t));
    stamp = malloc(((size_t)nb + 1) * sizeof(int32_t));
    hi = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    saddle = malloc((size_t)(total ? total : 1) * sizeof(double));
    failed |= start == NULL || where == NULL || stamp == NULL || hi == NULL || saddle == NULL;
    if (!bad && !failed) {
        /* counting sort of the pairs by their lower basin: bucket a is start[a] .. start[a+1]-1 */
        for (int64_t k = 0; k < total; k++)
            start[P.lo[k] + 1]++;
        for (Py_ssize_t a = 0; a < nb; a++)
            start[a + 1] += start[a];
        memcpy(where, start, (size_t)nb * sizeof(int64_t));
        for (int64_t k = 0; k < total; k++) {
            int64_t to = where[P.lo[k]]++;
            hi[to] = P.hi[k];
            saddle[to] = P.saddle[k];
        }
        for (Py_ssize_t b = 0; b < nb; b++)
            stamp[b] = -1;
        /* deduplicate bucket by bucket, compacting in place (the write position never passes the read one) */
        for (Py_ssize_t a = 0; a < nb && !failed; a++) {
            int64_t first = edges, end = start[a + 1];
            for (int64_t k = start[a]; k < end; k++) {
                int32_t b = hi[k];
                double s = saddle[k];
                if (stamp[b] != a) {
                    stamp[b] = (int32_t)a;
                    where[b] = edges;
                    hi[edges] = b;
                    saddle[edges] = s;
                    edges++;
                } else if (s < saddle[where[b]]) {
                    saddle[where[b]] = s;
                }
            }
            start[a] = first;  /* start[a] now indexes the deduplicated edges; start[a+1] is read next */
            failed = sort_by_hi(hi + first, saddle + first, edges - first);
        }
        start[nb] = edges;
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "basin: an id not below nb");
        goto done;
    }
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *lo_bytes = PyBytes_FromStringAndSize(NULL, edges * 4);
    PyObject *hi_bytes = PyBytes_FromStringAndSize(NULL, edges * 4);
    PyObject *saddle_bytes = PyBytes_FromStringAndSize(NULL, edges * 8);
    if (lo_bytes && hi_bytes && saddle_bytes) {
        int32_t *lo = (int32_t *)PyBytes_AS_STRING(lo_bytes);
        for (Py_ssize_t a = 0; a < nb; a++)
            for (int64_t k = start[a]; k < start[a + 1]; k++)
                lo[k] = (int32_t)a;
        memcpy(PyBytes_AS_STRING(hi_bytes), hi, (size_t)edges * 4);
        memcpy(PyBytes_AS_STRING(saddle_bytes), saddle, (size_t)edges * 8);
        result = PyTuple_Pack(3, lo_bytes, hi_bytes, saddle_bytes);
    }
    Py_XDECREF(lo_bytes);
    Py_XDECREF(hi_bytes);
    Py_XDECREF(saddle_bytes);
done:
    free(P.lo), free(P.hi), free(P.saddle);
    free(start), free(where), free(stamp), free(hi), free(saddle);
    PyBuffer_Release(&zb);
    PyBuffer_Release(&basinb);
    return result;
}

/* ------------------------------------------------------------------------------------------------ */
/* prune(hpit, lo, hi, saddle, threshold, motif): Kruskal with the elder rule and Wolf pruning.      */
/* ------------------------------------------------------------------------------------------------ */

/* An edge in the sort: its saddle and its position in the edge arrays. */
typedef struct {
    double saddle;
    uint32_t position;
} Ranked;

static int
by_saddle_then_position(const void *x, const void *y)
{
    const Ranked *a = x, *b = y;
    if (a->saddle != b->saddle)
        return a->saddle < b->saddle ? -1 : 1;
    return (a->position > b->position) - (a->position < b->position);
}

#define SMALL_BUCKET 64 /* buckets up to this size are insertion-sorted */
#define BUCKET_DEPTH 8  /* bucket levels before qsort takes over (a pathological spread of values) */

/*
 * Sorts r[0..k), given in increasing position order, by saddle, keeping the position order of equal
 * saddles. A bucket sort: the bucket index (saddle - min) * scale is a monotone function of the saddle
 * (each rounding step is monotone), so the buckets come in order; the edges go into their buckets in
 * their order, and each bucket is sorted the same way (a crowded bucket, where the values cluster) or
 * by insertion sort (a few edges). Returns -1 when out of memory.
 */
static int
sort_by_saddle(Ranked *r, int64_t k, int depth)
{
    if (k <= SMALL_BUCKET) {
        for (int64_t x = 1; x < k; x++) {
            Ranked e = r[x];
            int64_t y = x;
            for (; y > 0 && r[y - 1].saddle > e.saddle; y--)
                r[y] = r[y - 1];
            r[y] = e;
        }
        return 0;
    }
    double lowest = INFINITY, highest = -INFINITY;
    for (int64_t x = 0; x < k; x++) {
        lowest = r[x].saddle < lowest ? r[x].saddle : lowest;
        highest = r[x].saddle > highest ? r[x].saddle : highest;
    }
    if (lowest == highest)
        return 0;  /* all equal: already in position order */
    int64_t nbuckets = k / 2 + 1;
    double scale = (double)nbuckets / (highest - lowest);
    if (depth >= BUCKET_DEPTH || !isfinite(scale) || !isfinite(highest - lowest)) {
        qsort(r, (size_t)k, sizeof(Ranked), by_saddle_then_position);
        return 0;
    }
    int64_t *start = calloc((size_t)nbuckets + 1, sizeof(int64_t));
    Ranked *in = malloc((size_t)k * sizeof(Ranked));
    if (start == NULL || in == NULL) {
        free(start), free(in);
        return -1;
    }
    memcpy(in, r, (size_t)k * sizeof(Ranked));
#define BUCKET(v) ((int64_t)(((v) - lowest) * scale) < nbuckets ? (int64_t)(((v) - lowest) * scale) : nbuckets - 1)
    for (int64_t x = 0; x < k; x++)
        start[BUCKET(in[x].saddle) + 1]++;
    for (int64_t b = 0; b < nbuckets; b++)
        start[b + 1] += start[b];
    for (int64_t x = 0; x < k; x++)
        r[start[BUCKET(in[x].saddle)]++] = in[x];  /* start[b] moves to the end of bucket b */
#undef BUCKET
    free(in);
    int failed = 0;
    for (int64_t b = 0, first = 0; b < nbuckets && !failed; first = start[b++])
        if (start[b] - first > 1)
            failed = sort_by_saddle(r + first, start[b] - first, depth + 1);
    free(start);
    return failed ? -1 : 0;
}

/* A basin in the union-find: its pit's height h and its component's root (itself for a root). */
typedef struct {
    double h;
    int32_t parent;
} Node;

/* The component (union-find root) of basin a, halving the path on the way. */
static inline int32_t
find(Node *node, int32_t a)
{
    while (node[a].parent != a) {
        node[a].parent = node[node[a].parent].parent;
        a = node[a].parent;
    }
    return a;
}

/*
 * hpit: float64[nb], h = sign*z at each basin's pit; lo, hi: int32[m] and saddle: float64[m], the
 * edges; motif: int32[nb] (out), for every basin the significant motif (a basin id) it belongs to.
 *
 * Edges are taken in the order (saddle, position). An edge between two components merges them; the
 * one whose pit is higher in the (height, basin id) order dies there (elder rule; basin ids follow the
 * raster order of the pits, so this is the (height, flat index) order of the points). If it dies less
 * than `threshold` below the saddle, it is pruned: it joins the motif of the basin across the edge;
 * otherwise it is significant, as is every component that never dies. A component is named by its
 * oldest basin (the union-find root), and the motif pointers are followed to their ends at the end.
 * The edges' ends are gathered in sorted order first, so that the union-find loop reads them in sequence.
 */
static PyObject *
prune(PyObject *self, PyObject *args)
{
    Py_buffer hpitb, lob, hib, saddleb, motifb;
    double threshold;
    if (!PyArg_ParseTuple(args, "y*y*y*y*dw*", &hpitb, &lob, &hib, &saddleb, &threshold, &motifb))
        return NULL;
    PyObject *result = NULL;
    Ranked *order = NULL;
    int32_t *ends = NULL;
    Node *node = NULL;
    Py_ssize_t nb = hpitb.len / 8, m = lob.len / 4;
    if (check(nb < INT32_MAX && m < UINT32_MAX, "2**31 basins or 2**32 edges or more") ||
        check_length(&hpitb, nb, 8, "hpit") ||
        check_length(&lob, m, 4, "lo") || check_length(&hib, m, 4, "hi") ||
        check_length(&saddleb, m, 8, "saddle") || check_length(&motifb, nb, 4, "motif"))
        goto done;
    const double *hpit = hpitb.buf, *saddle = saddleb.buf;
    const int32_t *lo = lob.buf, *hi = hib.buf;
    int32_t *motif = motifb.buf;
    for (Py_ssize_t e = 0; e < m; e++) {
        if (lo[e] < 0 || lo[e] >= nb || hi[e] < 0 || hi[e] >= nb || isnan(saddle[e])) {
            PyErr_SetString(PyExc_ValueError, "an edge with a basin outside 0..nb-1 or a NaN saddle");
            goto done;
        }
    }
    order = malloc((size_t)(m ? m : 1) * sizeof(Ranked));
    ends = malloc((size_t)(m ? m : 1) * 2 * sizeof(int32_t));
    node = malloc((size_t)(nb ? nb : 1) * sizeof(Node));
    if (order == NULL || ends == NULL || node == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t e = 0; e < m; e++)
        order[e].saddle = saddle[e], order[e].position = (uint32_t)e;
    failed = sort_by_saddle(order, m, 0);
    if (!failed) {
        for (Py_ssize_t k = 0; k < m; k++) {  /* the two ends of the k-th edge in sorted order */
            ends[2 * k] = lo[order[k].position];
            ends[2 * k + 1] = hi[order[k].position];
        }
        for (Py_ssize_t b = 0; b < nb; b++) {
            node[b].h = hpit[b], node[b].parent = (int32_t)b;
            motif[b] = (int32_t)b;
        }
        for (Py_ssize_t k = 0; k < m; k++) {
            int32_t a = ends[2 * k], b = ends[2 * k + 1];
            int32_t ra = find(node, a), rb = find(node, b);
            if (ra == rb)
                continue;
            int a_elder = node[ra].h < node[rb].h || (node[ra].h == node[rb].h && ra < rb);
            int32_t elder = a_elder ? ra : rb, young = a_elder ? rb : ra;
            int32_t across = a_elder ? a : b;  /* the edge's end in the elder component */
            if (order[k].saddle - node[young].h < threshold)
                motif[young] = across;
            node[young].parent = elder;
        }
        /* follow the motif pointers to their ends (significant motifs point to themselves) */
        for (Py_ssize_t b = 0; b < nb; b++) {
            int32_t end = (int32_t)b;
            while (motif[end] != end)
                end = motif[end];
            for (int32_t c = (int32_t)b; motif[c] != c;) {
                int32_t next = motif[c];
                motif[c] = end;
                c = next;
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    free(order);
    free(ends);
    free(node);
    PyBuffer_Release(&hpitb);
    PyBuffer_Release(&lob);
    PyBuffer_Release(&hib);
    PyBuffer_Release(&saddleb);
    PyBuffer_Release(&motifb);
    return result;
}

/* ------------------------------------------------------------------------------------------------ */
/* measures(...): point count, edge flag, pour level and volume of every motif.                      */
/* ------------------------------------------------------------------------------------------------ */

/*
 * z: float64[n]; sign; basin: int32[n]; motif: int32[nb]; lo, hi: int32[m] and saddle: float64[m], the
 * edges; rim: int64[r], the measured points on the border or next to a non-measured one. Out, per
 * basin id (meaningful for significant motifs): count int64[nb], edge uint8[nb] (touches the rim),
 * level float64[nb] (lowest of the rim heights and the saddles to other motifs; inf if none) and
 * volume float64[nb] (sum over the motif's points of level - h where positive), h = sign*z. The
 * volume is summed point by point in raster order.
 */
static PyObject *
measures(PyObject *self, PyObject *args)
{
    Py_buffer zb, basinb, motifb, lob, hib, saddleb, rimb, countb, edgeb, levelb, volumeb;
    double sign;
    if (!PyArg_ParseTuple(args, "y*dy*y*y*y*y*y*w*w*w*w*", &zb, &sign, &basinb, &motifb, &lob, &hib, &saddleb,
                          &rimb, &countb, &edgeb, &levelb, &volumeb))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = zb.len / 8, nb = motifb.len / 4, m = lob.len / 4, r = rimb.len / 8;
    if (check_length(&zb, n, 8, "z") || check_length(&basinb, n, 4, "basin") ||
        check_length(&motifb, nb, 4, "motif") || check_length(&lob, m, 4, "lo") || check_length(&hib, m, 4, "hi") ||
        check_length(&saddleb, m, 8, "saddle") || check_length(&rimb, r, 8, "rim") ||
        check_length(&countb, nb, 8, "count") || check_length(&edgeb, nb, 1, "edge") ||
        check_length(&levelb, nb, 8, "level") || check_length(&volumeb, nb, 8, "volume"))
        goto done;
    const double *z = zb.buf, *saddle = saddleb.buf;
    const int32_t *basin = basinb.buf, *motif = motifb.buf, *lo = lob.buf, *hi = hib.buf;
    const int64_t *rim = rimb.buf;
    int64_t *count = countb.buf;
    uint8_t *edge = edgeb.buf;
    double *level = levelb.buf, *volume = volumeb.buf;
    int bad = 0;
    for (Py_ssize_t b = 0; b < nb; b++)
        bad |= motif[b] < 0 || motif[b] >= nb;
    for (Py_ssize_t e = 0; e < m; e++)
        bad |= lo[e] < 0 || lo[e] >= nb || hi[e] < 0 || hi[e] >= nb;
    for (Py_ssize_t k = 0; k < r; k++)
        bad |= rim[k] < 0 || rim[k] >= n || basin[rim[k]] < 0;
    for (Py_ssize_t p = 0; p < n; p++)
        bad |= basin[p] >= nb;
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "an index outside its array (basin, motif, edge or rim point)");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t b = 0; b < nb; b++) {
        count[b] = 0;
        edge[b] = 0;
        level[b] = INFINITY;
        volume[b] = 0.0;
    }
    for (Py_ssize_t k = 0; k < r; k++) {  /* a rim point closes its motif at its own height */
        int32_t mo = motif[basin[rim[k]]];
        double h = sign * z[rim[k]];
        edge[mo] = 1;
        if (h < level[mo])
            level[mo] = h;
    }
    for (Py_ssize_t e = 0; e < m; e++) {  /* an edge between two motifs closes both at its saddle */
        int32_t ma = motif[lo[e]], mb = motif[hi[e]];
        if (ma == mb)
            continue;
        if (saddle[e] < level[ma])
            level[ma] = saddle[e];
        if (saddle[e] < level[mb])
            level[mb] = saddle[e];
    }
    for (Py_ssize_t p = 0; p < n; p++) {
        if (basin[p] < 0)
            continue;
        int32_t mo = motif[basin[p]];
        count[mo]++;
        double depth = level[mo] - sign * z[p];
        if (depth > 0 && depth < INFINITY)
            volume[mo] += depth;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&zb);
    PyBuffer_Release(&basinb);
    PyBuffer_Release(&motifb);
    PyBuffer_Release(&lob);
    PyBuffer_Release(&hib);
    PyBuffer_Release(&saddleb);
    PyBuffer_Release(&rimb);
    PyBuffer_Release(&countb);
    PyBuffer_Release(&edgeb);
    PyBuffer_Release(&levelb);
    PyBuffer_Release(&volumeb);
    return result;
}

/* ------------------------------------------------------------------------------------------------ */
/* Cubic B-spline samples of the autocorrelation, for Sal and Str (surfscan.iso25178._acf_kernels).  */
/* ------------------------------------------------------------------------------------------------ */

/* The weights of the four coefficients around a point a fraction t (0 <= t < 1) past a knot. */
static inline void
cubic_weights(double t, double w[4])
{
    const double sixth = 1.0 / 6.0;
    double s = 1.0 - t, t2 = t * t, s2 = s * s;
    w[0] = s2 * s * sixth;
    w[1] = (t2 * (3.0 * t - 6.0) + 4.0) * sixth;
    w[2] = (s2 * (3.0 * s - 6.0) + 4.0) * sixth;
    w[3] = t2 * t * sixth;
}

static inline Py_ssize_t
clamp(Py_ssize_t i, Py_ssize_t n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/*
 * The cubic B-spline with coefficients c (ny x nx) at (y, x), in coefficient index units; coefficients
 * beyond the border repeat the border ones.
 */
static inline double
spline_at(const double *c, Py_ssize_t ny, Py_ssize_t nx, double y, double x)
{
    Py_ssize_t iy = (Py_ssize_t)y, ix = (Py_ssize_t)x;  /* floor, without a call into libm */
    iy -= y < (double)iy;
    ix -= x < (double)ix;
    double wy[4], wx[4];
    cubic_weights(y - (double)iy, wy);
    cubic_weights(x - (double)ix, wx);
    iy -= 1, ix -= 1;  /* the first of the four knots */
    double total = 0.0;
    if (iy >= 0 && iy + 3 < ny && ix >= 0 && ix + 3 < nx) {  /* inside: no clamping */
        const double *row = c + iy * nx + ix;
        for (int a = 0; a < 4; a++, row += nx)
            total += wy[a] * (wx[0] * row[0] + wx[1] * row[1] + wx[2] * row[2] + wx[3] * row[3]);
        return total;
    }
    Py_ssize_t col[4];
    for (int b = 0; b < 4; b++)
        col[b] = clamp(ix + b, nx);
    for (int a = 0; a < 4; a++) {
        const double *row = c + clamp(iy + a, ny) * nx;
        total += wy[a] * (wx[0] * row[col[0]] + wx[1] * row[col[1]] + wx[2] * row[col[2]] + wx[3] * row[col[3]]);
    }
    return total;
}

/* spline_values(coef, ny, nx, y, x, out): the spline at the points (y[k], x[k]) (float64 arrays). */
static PyObject *
spline_values(PyObject *self, PyObject *args)
{
    Py_buffer cb, yb, xb, outb;
    Py_ssize_t ny, nx;
    if (!PyArg_ParseTuple(args, "y*nny*y*w*", &cb, &ny, &nx, &yb, &xb, &outb))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t k = yb.len / 8;
    if (check(ny >= 1 && nx >= 1, "coef: an empty shape") || check_length(&cb, ny * nx, 8, "coef") ||
        check_length(&yb, k, 8, "y") ||
        check_length(&xb, k, 8, "x") || check_length(&outb, k, 8, "out"))
        goto done;
    const double *c = cb.buf, *y = yb.buf, *x = xb.buf;
    double *out = outb.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t p = 0; p < k; p++)
        out[p] = spline_at(c, ny, nx, y[p], x[p]);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&cb);
    PyBuffer_Release(&yb);
    PyBuffer_Release(&xb);
    PyBuffer_Release(&outb);
    return result;
}

/*
 * ray_search(coef, ny, nx, cy, cx, vy, vx, steps, threshold, t_best): along every ray r from (cy, cx)
 * to (cy + vy[r], cx + vx[r]), the spline sampled at t = s / (steps[r] - 1), s = 0 .. steps[r]-1;
 * t_best[r] is the first t where |value - threshold| is smallest. vy, vx, t_best: float64; steps: int64.
 */
static PyObject *
ray_search(PyObject *self, PyObject *args)
{
    Py_buffer cb, vyb, vxb, stepsb, tb;
    Py_ssize_t ny, nx;
    double cy, cx, threshold;
    if (!PyArg_ParseTuple(args, "y*nnddy*y*y*dw*", &cb, &ny, &nx, &cy, &cx, &vyb, &vxb, &stepsb, &threshold, &tb))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t rays = vyb.len / 8;
    if (check(ny >= 1 && nx >= 1, "coef: an empty shape") || check_length(&cb, ny * nx, 8, "coef") ||
        check_length(&vyb, rays, 8, "vy") ||
        check_length(&vxb, rays, 8, "vx") || check_length(&stepsb, rays, 8, "steps") ||
        check_length(&tb, rays, 8, "t_best"))
        goto done;
    const double *c = cb.buf, *vy = vyb.buf, *vx = vxb.buf;
    const int64_t *steps = stepsb.buf;
    double *t_best = tb.buf;
    for (Py_ssize_t r = 0; r < rays; r++) {
        if (steps[r] < 2) {
            PyErr_SetString(PyExc_ValueError, "steps: at least 2 samples a ray");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < rays; r++) {
        int64_t n = steps[r], best = 0;
        double best_distance = INFINITY;
        for (int64_t s = 0; s < n; s++) {
            double t = (double)s / (double)(n - 1);
            double distance = fabs(spline_at(c, ny, nx, cy + vy[r] * t, cx + vx[r] * t) - threshold);
            if (distance < best_distance) {
                best_distance = distance;
                best = s;
            }
        }
        t_best[r] = (double)best / (double)(n - 1);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&cb);
    PyBuffer_Release(&vyb);
    PyBuffer_Release(&vxb);
    PyBuffer_Release(&stepsb);
    PyBuffer_Release(&tb);
    return result;
}

static PyMethodDef methods[] = {
    {"descent", descent, METH_VARARGS, "descent(z, ny, nx, low, high): lowest/highest 8-neighbour of every point"},
    {"basins", basins, METH_VARARGS, "basins(down, basin) -> pits (bytes, int64): basins of descent pointers"},
    {"adjacency", adjacency, METH_VARARGS,
     "adjacency(z, basin, ny, nx, sign, nb) -> (lo, hi, saddle) bytes: basin pairs with their lowest saddle"},
    {"prune", prune, METH_VARARGS,
     "prune(hpit, lo, hi, saddle, threshold, motif): elder-rule merge tree with Wolf pruning"},
    {"measures", measures, METH_VARARGS,
     "measures(z, sign, basin, motif, lo, hi, saddle, rim, count, edge, level, volume): motif attributes"},
    {"spline_values", spline_values, METH_VARARGS, "spline_values(coef, ny, nx, y, x, out): cubic B-spline samples"},
    {"ray_search", ray_search, METH_VARARGS,
     "ray_search(coef, ny, nx, cy, cx, vy, vx, steps, threshold, t_best): sample nearest the threshold on each ray"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ckernels",
    "Compiled merge-tree kernels for surfscan.iso25178._merge_tree (optional; numpy is the fallback).", -1, methods,
    NULL, NULL, NULL, NULL,
};

/* Raised whenever a kernel's signature or result changes; _merge_tree ignores a stale build (another VERSION). */
#define KERNELS_VERSION 2

PyMODINIT_FUNC
PyInit__ckernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", KERNELS_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
