/* Request features, layout f1: the same numbers, bit for bit, as the reference implementation in
 * models/features.py (tests compare them over real and random prompts). The spec (script bounds,
 * markers, sizes) is passed in once by models/features.py through configure(), so it lives in one
 * place. */
#include "native.h"

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

PyObject *native_configure(PyObject *self, PyObject *args, PyObject *kw) {
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

PyObject *native_featurize_into(PyObject *self, PyObject *args) {
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
PyObject *native_featurize_rows(PyObject *self, PyObject *args) {
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
