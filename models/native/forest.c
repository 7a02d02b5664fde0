/* LightGBM numerical trees flattened into one node array, evaluated eight trees at a time so the
 * dependent loads of one tree overlap with the others'. Leaves loop to themselves, so a group runs
 * a fixed number of branch-free steps. Leaf values are summed per class in tree order, as LightGBM
 * sums them, so raw scores equal Booster.predict(raw_score=True) exactly. */
#include "native.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ forest */

typedef struct {
    float thr;      /* go left when x[feat] <= thr; +inf on leaves, which point to themselves */
    int32_t feat;
    int32_t child[2]; /* left, right */
} Node;

typedef struct {
    PyObject_HEAD
    Node *nodes;
    double *value;  /* leaf value per node (0 on splits) */
    int32_t *root;        /* in evaluation order: trees sorted by depth, so a group's lanes finish together */
    int32_t *order;       /* original index of the tree evaluated in each slot (n_trees for padding) */
    uint8_t *group_depth; /* steps for evaluation slots [8g, 8g+8) */
    int n_trees, n_class, n_features;
    Py_ssize_t n_nodes;
} Forest;

#define LANES 8

static void forest_dealloc(Forest *f) {
    free(f->nodes); free(f->value); free(f->root); free(f->order); free(f->group_depth);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

static int read_buffer(PyObject *obj, Py_buffer *v, const char *fmt, Py_ssize_t itemsize, const char *what) {
    if (PyObject_GetBuffer(obj, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    if (v->itemsize != itemsize || strcmp(v->format, fmt) != 0) {
        PyErr_Format(PyExc_ValueError, "%s: expected an array of '%s' items", what, fmt);
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

/* Forest(feat int32[], thr float32[], left int32[], right int32[], value float64[], root int32[],
 *        depth uint8[] per tree, n_class, n_features): node arrays as models/forest.py builds them. */
static int forest_init(Forest *f, PyObject *args, PyObject *kw) {
    PyObject *o[7];
    int n_class, n_features;
    if (!PyArg_ParseTuple(args, "OOOOOOOii", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &n_class,
                          &n_features))
        return -1;
    static const char *fmt[7] = {"i", "f", "i", "i", "d", "i", "B"};
    static const Py_ssize_t size[7] = {4, 4, 4, 4, 8, 4, 1};
    static const char *what[7] = {"feat", "thr", "left", "right", "value", "root", "depth"};
    Py_buffer v[7];
    int got = 0, rc = -1;
    for (; got < 7; got++)
        if (read_buffer(o[got], &v[got], fmt[got], size[got], what[got]) < 0) goto done;
    Py_ssize_t nn = v[0].len / 4, nt = v[5].len / 4;
    if (v[1].len / 4 != nn || v[2].len / 4 != nn || v[3].len / 4 != nn || v[4].len / 8 != nn || nn < 1 ||
        nt < 1 || n_class < 1 || nt % n_class || n_features < 1 || v[6].len != nt) {
        PyErr_SetString(PyExc_ValueError, "forest arrays disagree in length");
        goto done;
    }
    const int32_t *feat = v[0].buf, *left = v[2].buf, *right = v[3].buf, *root = v[5].buf;
    for (Py_ssize_t i = 0; i < nn; i++)
        if (feat[i] < 0 || feat[i] >= n_features || left[i] < 0 || left[i] >= nn || right[i] < 0 || right[i] >= nn) {
            PyErr_Format(PyExc_ValueError, "forest node %zd points outside the model", i);
            goto done;
        }
    for (Py_ssize_t t = 0; t < nt; t++)
        if (root[t] < 0 || root[t] >= nn) { PyErr_Format(PyExc_ValueError, "tree %zd root out of range", t); goto done; }
    Py_ssize_t slots = (nt + LANES - 1) / LANES * LANES;
    f->nodes = malloc((size_t)nn * sizeof(Node));
    f->value = malloc((size_t)nn * sizeof(double));
    f->root = malloc((size_t)slots * sizeof(int32_t));
    f->order = malloc((size_t)slots * sizeof(int32_t));
    f->group_depth = calloc((size_t)(slots / LANES), 1);
    if (!f->nodes || !f->value || !f->root || !f->order || !f->group_depth) { PyErr_NoMemory(); goto done; }
    const float *thr = v[1].buf;
    const uint8_t *depth = v[6].buf;
    for (Py_ssize_t i = 0; i < nn; i++) f->nodes[i] = (Node){thr[i], feat[i], {left[i], right[i]}};
    memcpy(f->value, v[4].buf, (size_t)nn * sizeof(double));
    Py_ssize_t s = 0;
    for (int d = 0; d < 256; d++) /* counting sort by depth, stable */
        for (Py_ssize_t t = 0; t < nt; t++)
            if (depth[t] == d) {
                f->root[s] = root[t];
                f->order[s] = (int32_t)t;
                if (d > f->group_depth[s / LANES]) f->group_depth[s / LANES] = (uint8_t)d;
                s++;
            }
    for (; s < slots; s++) { /* padding lanes: any root, result written to a spare slot */
        f->root[s] = root[0];
        f->order[s] = (int32_t)nt;
    }
    f->n_nodes = nn;
    f->n_trees = (int)nt;
    f->n_class = n_class;
    f->n_features = n_features;
    rc = 0;
done:
    for (int k = 0; k < got; k++) PyBuffer_Release(&v[k]);
    return rc;
}

static void forest_row(const Forest *f, const float *x, double *out, int32_t *leaf) {
    const Node *nodes = f->nodes;
    for (int t0 = 0, g = 0; t0 < f->n_trees; t0 += LANES, g++) {
        int32_t cur[LANES];
        for (int k = 0; k < LANES; k++) cur[k] = f->root[t0 + k];
        for (int step = f->group_depth[g]; step > 0; step--)
            for (int k = 0; k < LANES; k++) {
                const Node *nd = &nodes[cur[k]];
                cur[k] = nd->child[!(x[nd->feat] <= nd->thr)]; /* an index, not a branch */
            }
        for (int k = 0; k < LANES; k++) leaf[f->order[t0 + k]] = cur[k];
    }
    for (int c = 0; c < f->n_class; c++) out[c] = 0.0;
    for (int t = 0, c = 0; t < f->n_trees; t++) { /* LightGBM's summation order: tree by tree */
        out[c] += f->value[leaf[t]];
        if (++c == f->n_class) c = 0;
    }
}

static PyObject *forest_raw(Forest *f, PyObject *args) {
    PyObject *xo, *oo;
    if (!PyArg_ParseTuple(args, "OO", &xo, &oo)) return NULL;
    Py_buffer x, out;
    if (read_buffer(xo, &x, "f", 4, "x") < 0) return NULL;
    if (PyObject_GetBuffer(oo, &out, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    Py_ssize_t rows = x.len / 4 / f->n_features;
    PyObject *result = NULL;
    if (x.len != rows * f->n_features * 4 || strcmp(out.format, "d") != 0 || out.len != rows * f->n_class * 8) {
        PyErr_Format(PyExc_ValueError, "raw(x, out): x must be float32 rows of %d features and out float64 rows of %d",
                     f->n_features, f->n_class);
    } else {
        const float *xr = x.buf;
        double *orow = out.buf;
        int32_t stack_leaf[2048 + LANES];
        int32_t *leaf = f->n_trees <= 2048 ? stack_leaf : malloc((size_t)(f->n_trees + LANES) * sizeof(int32_t));
        if (!leaf) {
            PyErr_NoMemory();
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t r = 0; r < rows; r++) forest_row(f, xr + r * f->n_features, orow + r * f->n_class, leaf);
            Py_END_ALLOW_THREADS
            if (leaf != stack_leaf) free(leaf);
            result = Py_NewRef(Py_None);
        }
    }
    PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef forest_methods[] = {
    {"raw", (PyCFunction)forest_raw, METH_VARARGS,
     "raw(x, out): raw scores of float32 rows x (n x n_features) into float64 out (n x n_class)."},
    {NULL}};

static PyObject *forest_get_n_class(Forest *f, void *c) { return PyLong_FromLong(f->n_class); }
static PyObject *forest_get_n_trees(Forest *f, void *c) { return PyLong_FromLong(f->n_trees); }
static PyObject *forest_get_n_features(Forest *f, void *c) { return PyLong_FromLong(f->n_features); }
static PyGetSetDef forest_getset[] = {
    {"n_class", (getter)forest_get_n_class, NULL, NULL, NULL},
    {"n_trees", (getter)forest_get_n_trees, NULL, NULL, NULL},
    {"n_features", (getter)forest_get_n_features, NULL, NULL, NULL},
    {NULL}};

PyTypeObject NativeForestType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "models._native.Forest",
    .tp_basicsize = sizeof(Forest),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Flattened numerical tree ensemble (see models/forest.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)forest_init,
    .tp_dealloc = (destructor)forest_dealloc,
    .tp_methods = forest_methods,
    .tp_getset = forest_getset,
};
