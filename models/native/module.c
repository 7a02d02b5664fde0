/* models._native: the classifier's hot path in C. Parts: features.c (request features),
 * forest.c (tree-ensemble raw scores), pii.c (personal-data pre-check); this file binds them. */
#include "native.h"

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))native_configure, METH_VARARGS | METH_KEYWORDS,
     "Set the feature spec (called once by models/features.py)."},
    {"featurize_into", native_featurize_into, METH_VARARGS, "featurize_into(out, text, n_messages, has_system)"},
    {"featurize_rows", native_featurize_rows, METH_VARARGS, "featurize_rows(out, texts, n_messages, has_system)"},
    {"pii_candidate", native_pii_candidate, METH_O, "False when core.pii.detect_pii(text) is certainly empty."},
    {NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "models._native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&NativeForestType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Forest", (PyObject *)&NativeForestType) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
