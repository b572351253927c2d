/*
 * _ckernels.c - optional compiled kernels for the merge tree of the feature parameters.
 *
 * surfscan.iso25178._merge_tree computes the same results in numpy; it uses these
 * functions when this extension was built at install time (setup.py declares it
 * optional, so an install without a C compiler falls back to numpy), and
 * SURFSCAN_PURE_NUMPY=1 makes it ignore them. The steps are inherently sequential
 * (following pointers, union-find), which numpy can only emulate in rounds of
 * whole-array operations; here each is one or two passes in O(n) or O(m log m).
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
    if (ny < 0 || nx < 0 || n >= INT32_MAX || check_length(&zb, n, 8, "z") || check_length(&lowb, n, 4, "low") ||
        check_length(&highb, n, 4, "high"))
        goto done;
    const double *z = zb.buf;
    int32_t *low = lowb.buf, *high = highb.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < ny; i++) {
        Py_ssize_t i0 = i > 0 ? i - 1 : 0, i1 = i + 1 < ny ? i + 1 : ny - 1;
        for (Py_ssize_t j = 0; j < nx; j++) {
            Py_ssize_t p = i * nx + j;
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
    if (n >= INT32_MAX || check_length(&downb, n, 4, "down") || check_length(&basinb, n, 4, "basin"))
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

/* The four forward neighbours (right, down-left, down, down-right): each 8-adjacent pair once. */
static const int FORWARD_DI[4] = {0, 1, 1, 1};
static const int FORWARD_DJ[4] = {1, -1, 0, 1};
#define RECENT 4 /* pairs remembered to skip repeats along a row */

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

/*
 * The touching point pairs of different basins, in one pass over the map. A pair of the same two
 * basins as one of the last RECENT stored pairs, or as the last pair stored at the same column in the
 * row above (a boundary running down the map), only lowers that one's saddle: this thins the pairs
 * several-fold without losing a basin pair or its lowest saddle. Returns -1 when out of memory.
 */
static int
scan_pairs(const double *z, const int32_t *basin, Py_ssize_t ny, Py_ssize_t nx, double sign, Pairs *P)
{
    int64_t recent[RECENT];  /* slots of the last stored pairs */
    int oldest = 0;
    for (int k = 0; k < RECENT; k++)
        recent[k] = -1;
    /* the slot of the last pair stored or matched at every column, in the row above and in this row */
    int64_t *above = malloc((size_t)(nx ? nx : 1) * sizeof(int64_t)), *here = malloc((size_t)(nx ? nx : 1) * sizeof(int64_t));
    if (above == NULL || here == NULL || pairs_reserve(P, 1024 + ny * nx / 4)) {
        free(above), free(here);
        return -1;
    }
    for (Py_ssize_t j = 0; j < nx; j++)
        above[j] = -1;
    for (Py_ssize_t i = 0; i < ny; i++) {
        for (Py_ssize_t j = 0; j < nx; j++) {
            Py_ssize_t p = i * nx + j;
            int32_t bp = basin[p];
            here[j] = -1;
            if (bp < 0)
                continue;
            for (int d = 0; d < 4; d++) {
                Py_ssize_t ii = i + FORWARD_DI[d], jj = j + FORWARD_DJ[d];
                if (ii >= ny || jj < 0 || jj >= nx)
                    continue;
                Py_ssize_t q = ii * nx + jj;
                int32_t bq = basin[q];
                if (bq == bp || bq < 0)
                    continue;
                int32_t a = bp < bq ? bp : bq, b = bp < bq ? bq : bp;
                double zp = z[p], zq = z[q];
                double s = sign > 0 ? (zp > zq ? zp : zq) : -(zp < zq ? zp : zq);
                int64_t slot = above[j];
                if (slot < 0 || P->lo[slot] != a || P->hi[slot] != b) {
                    int k = 0;
                    while (k < RECENT && !((slot = recent[k]) >= 0 && P->lo[slot] == a && P->hi[slot] == b))
                        k++;
                    if (k == RECENT)
                        slot = -1;
                }
                if (slot >= 0) {  /* a repeat: keep the lower saddle */
                    if (s < P->saddle[slot])
                        P->saddle[slot] = s;
                } else {
                    if (P->size == P->capacity && pairs_reserve(P, 2 * P->capacity)) {
                        free(above), free(here);
                        return -1;
                    }
                    slot = P->size++;
                    P->lo[slot] = a, P->hi[slot] = b, P->saddle[slot] = s;
                    recent[oldest] = slot;
                    oldest = (oldest + 1) % RECENT;
                }
                here[j] = slot;
            }
        }
        int64_t *t = above;
        above = here, here = t;
    }
    free(above), free(here);
    return 0;
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
    if (ny < 0 || nx < 0 || nb < 0 || nb >= INT32_MAX || check_length(&zb, n, 8, "z") ||
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

/* A key whose unsigned order is the order of the double (no NaN; -0 is taken as +0). */
static inline uint64_t
ordered_key(double x)
{
    uint64_t u;
    if (x == 0.0)
        x = 0.0;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

#define RADIX_BITS 11
#define RADIX_PASSES 6 /* 6 x 11 bits cover the 64-bit key */

/*
 * The positions 0..m-1 sorted by key[position], stable (equal keys keep their position order): a
 * least-significant-digit radix sort, 11 bits a pass; a pass whose digit is the same for every key is
 * skipped. Returns a malloc'ed array, or NULL when out of memory.
 */
static uint32_t *
stable_order(const uint64_t *key_in, int64_t m)
{
    size_t size = (size_t)(m ? m : 1);
    uint64_t *key = malloc(size * sizeof(uint64_t)), *key2 = malloc(size * sizeof(uint64_t));
    uint32_t *pos = malloc(size * sizeof(uint32_t)), *pos2 = malloc(size * sizeof(uint32_t));
    int64_t(*histogram)[1 << RADIX_BITS] = calloc(RADIX_PASSES, sizeof *histogram);
    if (key == NULL || key2 == NULL || pos == NULL || pos2 == NULL || histogram == NULL) {
        free(key), free(key2), free(pos), free(pos2), free(histogram);
        return NULL;
    }
    const uint64_t mask = (1 << RADIX_BITS) - 1;
    for (int64_t k = 0; k < m; k++) {
        key[k] = key_in[k];
        pos[k] = (uint32_t)k;
        for (int d = 0; d < RADIX_PASSES; d++)
            histogram[d][(key[k] >> (d * RADIX_BITS)) & mask]++;
    }
    for (int d = 0; d < RADIX_PASSES; d++) {
        int64_t *h = histogram[d];
        if (m == 0 || h[(key[0] >> (d * RADIX_BITS)) & mask] == m)
            continue;  /* every key has this digit: the pass would not move anything */
        int64_t sum = 0;
        for (size_t b = 0; b <= mask; b++) {  /* counts -> first output position of each digit */
            int64_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (int64_t k = 0; k < m; k++) {
            int64_t to = h[(key[k] >> (d * RADIX_BITS)) & mask]++;
            key2[to] = key[k];
            pos2[to] = pos[k];
        }
        uint64_t *tk = key;
        key = key2, key2 = tk;
        uint32_t *tp = pos;
        pos = pos2, pos2 = tp;
    }
    free(key), free(key2), free(pos2), free(histogram);
    return pos;
}

/* The component (union-find root) of basin a, halving the path on the way. */
static inline int32_t
find(int32_t *component, int32_t a)
{
    while (component[a] != a) {
        component[a] = component[component[a]];
        a = component[a];
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
 */
static PyObject *
prune(PyObject *self, PyObject *args)
{
    Py_buffer hpitb, lob, hib, saddleb, motifb;
    double threshold;
    if (!PyArg_ParseTuple(args, "y*y*y*y*dw*", &hpitb, &lob, &hib, &saddleb, &threshold, &motifb))
        return NULL;
    PyObject *result = NULL;
    uint64_t *key = NULL;
    uint32_t *order = NULL;
    int32_t *component = NULL;
    Py_ssize_t nb = hpitb.len / 8, m = lob.len / 4;
    if (nb >= INT32_MAX || m >= UINT32_MAX || check_length(&hpitb, nb, 8, "hpit") ||
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
    key = malloc((size_t)(m ? m : 1) * sizeof(uint64_t));
    component = malloc((size_t)(nb ? nb : 1) * sizeof(int32_t));
    if (key == NULL || component == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t e = 0; e < m; e++)
        key[e] = ordered_key(saddle[e]);
    order = stable_order(key, m);
    if (order != NULL) {
        for (Py_ssize_t b = 0; b < nb; b++)
            component[b] = motif[b] = (int32_t)b;
        for (Py_ssize_t k = 0; k < m; k++) {
            uint32_t e = order[k];
            int32_t a = lo[e], b = hi[e];
            int32_t ra = find(component, a), rb = find(component, b);
            if (ra == rb)
                continue;
            int a_elder = hpit[ra] < hpit[rb] || (hpit[ra] == hpit[rb] && ra < rb);
            int32_t elder = a_elder ? ra : rb, young = a_elder ? rb : ra;
            int32_t across = a_elder ? a : b;  /* the edge's end in the elder component */
            if (saddle[e] - hpit[young] < threshold)
                motif[young] = across;
            component[young] = elder;
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
    if (order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    free(key);
    free(order);
    free(component);
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

static PyMethodDef methods[] = {
    {"descent", descent, METH_VARARGS, "descent(z, ny, nx, low, high): lowest/highest 8-neighbour of every point"},
    {"basins", basins, METH_VARARGS, "basins(down, basin) -> pits (bytes, int64): basins of descent pointers"},
    {"adjacency", adjacency, METH_VARARGS,
     "adjacency(z, basin, ny, nx, sign, nb) -> (lo, hi, saddle) bytes: basin pairs with their lowest saddle"},
    {"prune", prune, METH_VARARGS,
     "prune(hpit, lo, hi, saddle, threshold, motif): elder-rule merge tree with Wolf pruning"},
    {"measures", measures, METH_VARARGS,
     "measures(z, sign, basin, motif, lo, hi, saddle, rim, count, edge, level, volume): motif attributes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ckernels",
    "Compiled merge-tree kernels for surfscan.iso25178._merge_tree (optional; numpy is the fallback).", -1, methods,
    NULL, NULL, NULL, NULL,
};

/* Raised whenever a kernel's signature or result changes; _merge_tree ignores a stale build (another VERSION). */
#define KERNELS_VERSION 1

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
