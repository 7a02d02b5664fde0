/* Native hot path of the classifier: request features (layout f1) and tree-ensemble raw scores.
 *
 * featurize: the same numbers, bit for bit, as the reference implementation in models/features.py
 * (tests compare them over real and random prompts). The spec (script bounds, markers, sizes) is
 * passed in once by models/features.py through configure(), so it lives in one place.
 *
 * Forest: LightGBM numerical trees flattened into one node array, evaluated eight trees at a time
 * so the dependent loads of one tree overlap with the others'. Leaves loop to themselves, so a
 * group runs a fixed number of branch-free steps. Leaf values are summed per class in tree order,
 * as LightGBM sums them, so raw scores equal Booster.predict(raw_score=True) exactly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ features: configuration */

#define N_SCALAR_FIXED 12 /* log_chars .. log_max_line, see SCALAR_NAMES */
#define MAX_NEEDLES 512
#define MAX_NEEDLE_LEN 32
#define MAX_HASH 4096

static int cfg_ready = 0;
static Py_ssize_t cfg_max_chars, cfg_head, cfg_tail;
static int cfg_n_scripts, cfg_digit_script, cfg_n_groups, cfg_n_hash, cfg_n_features, cfg_n_scalars;
static uint8_t script_of_bmp[65536];
static uint8_t script_astral;
static int n_needles;
static uint32_t needle_cp[MAX_NEEDLES][MAX_NEEDLE_LEN];
static int needle_len[MAX_NEEDLES], needle_group[MAX_NEEDLES];
static int16_t bucket_head[256]; /* first needle whose first code point hashes here, -1 if none */
static int16_t bucket_next[MAX_NEEDLES];
static const uint64_t K1 = 0x9E3779B97F4A7C15ULL, K2 = 0xC2B2AE3D27D4EB4FULL, K3 = 0x165667B19E3779F9ULL;

static PyObject *configure(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"bounds", "bucket_to_script", "n_scripts", "digit_script", "markers", "n_hash",
                            "max_chars", "head_chars", "tail_chars", "n_features", NULL};
    PyObject *bounds, *b2s, *markers;
    int n_scripts, digit, n_hash, n_features;
    Py_ssize_t max_chars, head, tail;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOiiOinnni", names, &bounds, &b2s, &n_scripts, &digit, &markers,
                                     &n_hash, &max_chars, &head, &tail, &n_features))
        return NULL;
    PyObject *bl = PySequence_Fast(bounds, "bounds must be a sequence");
    PyObject *sl = bl ? PySequence_Fast(b2s, "bucket_to_script must be a sequence") : NULL;
    PyObject *ml = sl ? PySequence_Fast(markers, "markers must be a sequence of needle sequences") : NULL;
    if (!ml) goto fail;
    Py_ssize_t nb = PySequence_Fast_GET_SIZE(bl);
    if (nb < 1 || nb != PySequence_Fast_GET_SIZE(sl) || n_hash < 1 || n_hash > MAX_HASH || (n_hash & (n_hash - 1))) {
        PyErr_SetString(PyExc_ValueError, "bounds/bucket_to_script lengths differ, or n_hash is not a power of two <= 4096");
        goto fail;
    }
    uint32_t lo[64];
    uint8_t sc[64];
    if (nb > 64) { PyErr_SetString(PyExc_ValueError, "too many script bounds"); goto fail; }
    for (Py_ssize_t i = 0; i < nb; i++) {
        lo[i] = (uint32_t)PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(bl, i));
        sc[i] = (uint8_t)PyLong_AsLong(PySequence_Fast_GET_ITEM(sl, i));
        if (PyErr_Occurred()) goto fail;
        if ((i && lo[i] <= lo[i - 1]) || (!i && lo[0] != 0) || sc[i] >= n_scripts) {
            PyErr_SetString(PyExc_ValueError, "bounds must rise from 0 and scripts be < n_scripts");
            goto fail;
        }
    }
    Py_ssize_t b = 0;
    for (uint32_t cp = 0; cp < 65536; cp++) {
        while (b + 1 < nb && lo[b + 1] <= cp) b++;
        script_of_bmp[cp] = sc[b];
    }
    script_astral = sc[nb - 1];
    memset(bucket_head, -1, sizeof bucket_head);
    n_needles = 0;
    Py_ssize_t ng = PySequence_Fast_GET_SIZE(ml);
    for (Py_ssize_t g = 0; g < ng; g++) {
        PyObject *gl = PySequence_Fast(PySequence_Fast_GET_ITEM(ml, g), "a marker group must be a sequence");
        if (!gl) goto fail;
        for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(gl); j++) {
            PyObject *s = PySequence_Fast_GET_ITEM(gl, j);
            Py_ssize_t len = PyUnicode_Check(s) ? PyUnicode_GET_LENGTH(s) : -1;
            if (len < 1 || len > MAX_NEEDLE_LEN || n_needles >= MAX_NEEDLES) {
                Py_DECREF(gl);
                PyErr_SetString(PyExc_ValueError, "markers: each needle a non-empty str of at most 32 characters");
                goto fail;
            }
            int k = n_needles++;
            for (Py_ssize_t c = 0; c < len; c++) needle_cp[k][c] = PyUnicode_READ_CHAR(s, c);
            needle_len[k] = (int)len;
            needle_group[k] = (int)g;
        }
        Py_DECREF(gl);
    }
    for (int k = n_needles - 1; k >= 0; k--) { /* chains keep needle order */
        int h = needle_cp[k][0] & 255;
        bucket_next[k] = bucket_head[h];
        bucket_head[h] = (int16_t)k;
    }
    cfg_n_scripts = n_scripts;
    cfg_digit_script = digit;
    cfg_n_groups = (int)ng;
    cfg_n_hash = n_hash;
    cfg_max_chars = max_chars;
    cfg_head = head;
    cfg_tail = tail;
    cfg_n_scalars = N_SCALAR_FIXED + n_scripts + (int)ng;
    cfg_n_features = n_features;
    if (cfg_n_scalars + n_hash != n_features) {
        PyErr_SetString(PyExc_ValueError, "n_features does not match scalars + scripts + markers + n_hash");
        goto fail;
    }
    cfg_ready = 1;
    Py_DECREF(bl); Py_DECREF(sl); Py_DECREF(ml);
    Py_RETURN_NONE;
fail:
    cfg_ready = 0;
    Py_XDECREF(bl); Py_XDECREF(sl); Py_XDECREF(ml);
    return NULL;
}

/* ------------------------------------------------------------------ features: one row */

static inline int is_space(uint32_t c) { return Py_UNICODE_ISSPACE(c); }

static inline int starts_with(const uint32_t *s, Py_ssize_t n, const char *ascii) {
    Py_ssize_t k = 0;
    for (; ascii[k]; k++)
        if (k >= n || s[k] != (unsigned char)ascii[k]) return 0;
    return 1;
}

/* Count non-overlapping occurrences per needle, left to right (str.count), summed per group. */
static void count_markers(const uint32_t *w, Py_ssize_t n, float *out) {
    Py_ssize_t next_ok[MAX_NEEDLES];
    double sums[MAX_NEEDLES];
    for (int k = 0; k < n_needles; k++) next_ok[k] = 0;
    for (int g = 0; g < cfg_n_groups; g++) sums[g] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = w[i];
        for (int k = bucket_head[c & 255]; k >= 0; k = bucket_next[k]) {
            int len = needle_len[k];
            if (needle_cp[k][0] != c || i < next_ok[k] || i + len > n) continue;
            int j = 1;
            while (j < len && w[i + j] == needle_cp[k][j]) j++;
            if (j == len) {
                sums[needle_group[k]] += 1;
                next_ok[k] = i + len;
            }
        }
    }
    for (int g = 0; g < cfg_n_groups; g++) out[g] = (float)sums[g];
}

static int read_cps(PyObject *s, uint32_t *buf, Py_ssize_t n) {
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (kind == PyUnicode_1BYTE_KIND) {
        const uint8_t *d = data;
        for (Py_ssize_t i = 0; i < n; i++) buf[i] = d[i];
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const uint16_t *d = data;
        for (Py_ssize_t i = 0; i < n; i++) buf[i] = d[i];
    } else {
        memcpy(buf, data, (size_t)n * 4);
    }
    return 0;
}

static int featurize_one(PyObject *text, long n_messages, int has_system, float *out) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "request text must be str, not %.80s", Py_TYPE(text)->tp_name);
        return -1;
    }
    Py_ssize_t full_len = PyUnicode_GET_LENGTH(text);
    Py_ssize_t n = full_len < cfg_max_chars ? full_len : cfg_max_chars;
    PyObject *head = PyUnicode_Substring(text, 0, n);
    if (!head) return -1;
    PyObject *low = PyObject_CallMethod(head, "lower", NULL);
    if (!low) { Py_DECREF(head); return -1; }
    Py_ssize_t L = PyUnicode_GET_LENGTH(low);
    uint32_t stack_raw[1024], stack_low[1024 * 3];
    uint32_t *raw = n <= 1024 ? stack_raw : malloc((size_t)n * 4);
    uint32_t *t = L <= 1024 * 3 ? stack_low : malloc((size_t)L * 4);
    if (!raw || !t) {
        if (raw && raw != stack_raw) free(raw);
        if (t && t != stack_low) free(t);
        Py_DECREF(head); Py_DECREF(low);
        PyErr_NoMemory();
        return -1;
    }
    read_cps(head, raw, n);
    read_cps(low, t, L);
    Py_DECREF(head);
    Py_DECREF(low);

    /* lines (split on \n), words (split on whitespace), per-line prefixes */
    Py_ssize_t n_lines = 1, max_line = 0, line_start = 0, n_words = 0, spaces = 0, questions = 0;
    long list_lines = 0, indented = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i <= L; i++) {
        if (i == L || t[i] == '\n') {
            const uint32_t *ln = t + line_start;
            Py_ssize_t len = i - line_start;
            if (len > max_line) max_line = len;
            if (starts_with(ln, len, "    ") || (len && ln[0] == '\t')) indented++;
            Py_ssize_t k = 0;
            while (k < len && is_space(ln[k])) k++;
            const uint32_t *s = ln + k;
            Py_ssize_t r = len - k;
            if (starts_with(s, r, "- ") || starts_with(s, r, "* ") || starts_with(s, r, "1.") ||
                starts_with(s, r, "2.") || (r && s[0] == 0x30FB))
                list_lines++;
            if (i < L) n_lines++;
            line_start = i + 1;
        }
        if (i == L) break;
        uint32_t c = t[i];
        int sp = is_space(c);
        if (!sp && !in_word) n_words++;
        in_word = !sp;
        if (c == ' ') spaces++;
        if (c == '?' || c == 0xFF1F) questions++;
    }
    Py_ssize_t e = L;
    while (e > 0 && is_space(t[e - 1])) e--;
    out[0] = (float)log1p((double)full_len);
    out[1] = (float)log1p((double)n_words);
    out[2] = (float)log1p((double)n_lines);
    out[3] = (float)n_messages;
    out[4] = has_system ? 1.0f : 0.0f;
    out[5] = n_words ? (float)((double)(L - spaces) / (double)n_words) : 0.0f;
    out[6] = (float)questions;
    out[7] = (e > 0 && (t[e - 1] == '?' || t[e - 1] == 0xFF1F)) ? 1.0f : 0.0f;
    out[8] = (float)list_lines;
    out[9] = (float)indented;
    out[11] = (float)log1p((double)max_line);

    /* scripts, on the original (not lowercased) head */
    float *shares = out + N_SCALAR_FIXED;
    if (n) {
        Py_ssize_t counts[256] = {0};
        for (Py_ssize_t i = 0; i < n; i++) counts[raw[i] < 65536 ? script_of_bmp[raw[i]] : script_astral]++;
        for (int s = 0; s < cfg_n_scripts; s++) shares[s] = (float)((double)counts[s] / (double)n);
        out[10] = (float)(((double)counts[cfg_digit_script] / (double)n) * (double)n);
    } else {
        for (int s = 0; s < cfg_n_scripts; s++) shares[s] = 0.0f;
        out[10] = 0.0f;
    }

    /* markers: the lowercased head and tail */
    float *markers = shares + cfg_n_scripts;
    if (L <= cfg_head + cfg_tail) {
        count_markers(t, L, markers);
    } else {
        uint32_t w[4096];
        Py_ssize_t wn = cfg_head + 1 + cfg_tail;
        if (wn > 4096) { PyErr_SetString(PyExc_ValueError, "marker window too large"); goto fail; }
        memcpy(w, t, (size_t)cfg_head * 4);
        w[cfg_head] = '\n';
        memcpy(w + cfg_head + 1, t + L - cfg_tail, (size_t)cfg_tail * 4);
        count_markers(w, wn, markers);
    }

    /* hashed character trigrams of the lowercased text */
    float *tri = out + cfg_n_scalars;
    if (n >= 3 && L >= 3) {
        int32_t cnt[MAX_HASH];
        memset(cnt, 0, (size_t)cfg_n_hash * sizeof cnt[0]);
        uint64_t mask = (uint64_t)(cfg_n_hash - 1);
        for (Py_ssize_t i = 0; i + 2 < L; i++)
            cnt[(((uint64_t)t[i] * K1) ^ ((uint64_t)t[i + 1] * K2) ^ ((uint64_t)t[i + 2] * K3)) >> 40 & mask]++;
        double denom = (double)(L - 2);
        for (int j = 0; j < cfg_n_hash; j++) tri[j] = (float)sqrt((double)cnt[j] / denom);
    } else {
        for (int j = 0; j < cfg_n_hash; j++) tri[j] = 0.0f;
    }
    if (raw != stack_raw) free(raw);
    if (t != stack_low) free(t);
    return 0;
fail:
    if (raw != stack_raw) free(raw);
    if (t != stack_low) free(t);
    return -1;
}

static int get_float32(PyObject *obj, Py_buffer *view, Py_ssize_t rows, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    if (strcmp(view->format, "f") != 0 || view->len != rows * cfg_n_features * 4) {
        PyErr_Format(PyExc_ValueError, "%s must be a writable C-contiguous float32 array of %zd x %d", what, rows,
                     cfg_n_features);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *featurize_into(PyObject *self, PyObject *args) {
    PyObject *out, *text;
    long n_messages;
    int has_system;
    if (!PyArg_ParseTuple(args, "OUlp", &out, &text, &n_messages, &has_system)) return NULL;
    if (!cfg_ready) { PyErr_SetString(PyExc_RuntimeError, "models._native.configure() was not called"); return NULL; }
    Py_buffer view;
    if (get_float32(out, &view, 1, "out") < 0) return NULL;
    int rc = featurize_one(text, n_messages, has_system, view.buf);
    PyBuffer_Release(&view);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

/* featurize_rows(out, texts, n_messages, has_system): three sequences of equal length. */
static PyObject *featurize_rows(PyObject *self, PyObject *args) {
    PyObject *out, *texts, *nms, *sys;
    if (!PyArg_ParseTuple(args, "OOOO", &out, &texts, &nms, &sys)) return NULL;
    if (!cfg_ready) { PyErr_SetString(PyExc_RuntimeError, "models._native.configure() was not called"); return NULL; }
    PyObject *tl = PySequence_Fast(texts, "texts must be a sequence");
    PyObject *nl = tl ? PySequence_Fast(nms, "n_messages must be a sequence") : NULL;
    PyObject *sl = nl ? PySequence_Fast(sys, "has_system must be a sequence") : NULL;
    Py_buffer view = {0};
    PyObject *result = NULL;
    if (!sl) goto done;
    Py_ssize_t rows = PySequence_Fast_GET_SIZE(tl);
    if (PySequence_Fast_GET_SIZE(nl) != rows || PySequence_Fast_GET_SIZE(sl) != rows) {
        PyErr_SetString(PyExc_ValueError, "texts, n_messages and has_system differ in length");
        goto done;
    }
    if (get_float32(out, &view, rows, "out") < 0) goto done;
    float *row = view.buf;
    for (Py_ssize_t i = 0; i < rows; i++, row += cfg_n_features) {
        long nm = PyLong_AsLong(PySequence_Fast_GET_ITEM(nl, i));
        int hs = PyObject_IsTrue(PySequence_Fast_GET_ITEM(sl, i));
        if ((nm == -1 && PyErr_Occurred()) || hs < 0) goto done;
        if (featurize_one(PySequence_Fast_GET_ITEM(tl, i), nm, hs, row) < 0) goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (view.obj) PyBuffer_Release(&view);
    Py_XDECREF(tl); Py_XDECREF(nl); Py_XDECREF(sl);
    return result;
}

/* ------------------------------------------------------------------ personal data pre-check */

/* False only when core/pii.py cannot find anything: no '@' (e-mail), no two capitals and two digits
 * (IBAN), and no run of digits and number separators holding 8 or more digits (every card, phone,
 * My Number and SSN rule needs at least 8). Digits are Unicode decimals, as the regexes' \d. */
static PyObject *pii_candidate(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text must be str, not %.80s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), digits = 0;
    uint32_t p1 = 0, p2 = 0, p3 = 0; /* the three previous code points */
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = PyUnicode_READ(kind, data, i);
        if (c == '@') Py_RETURN_TRUE;
        int dec = c >= '0' && c <= '9' ? 1 : (c < 128 ? 0 : Py_UNICODE_ISDECIMAL(c));
        if (dec) {
            if (++digits >= 8) Py_RETURN_TRUE;
            if (p1 >= '0' && (p1 <= '9' || Py_UNICODE_ISDECIMAL(p1)) && p2 >= 'A' && p2 <= 'Z' && p3 >= 'A' && p3 <= 'Z')
                Py_RETURN_TRUE;
        } else if (!(c == ' ' || c == '(' || c == ')' || c == '-' || c == '+')) {
            digits = 0;
        }
        p3 = p2; p2 = p1; p1 = c;
    }
    Py_RETURN_FALSE;
}

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

static PyTypeObject ForestType = {
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

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_VARARGS | METH_KEYWORDS,
     "Set the feature spec (called once by models/features.py)."},
    {"featurize_into", featurize_into, METH_VARARGS, "featurize_into(out, text, n_messages, has_system)"},
    {"featurize_rows", featurize_rows, METH_VARARGS, "featurize_rows(out, texts, n_messages, has_system)"},
    {"pii_candidate", pii_candidate, METH_O, "False when core.pii.detect_pii(text) is certainly empty."},
    {NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "models._native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&ForestType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Forest", (PyObject *)&ForestType) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
