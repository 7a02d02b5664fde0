/* Declarations shared by the native module's parts (see module.c). */
#ifndef LLM_ROUTER_NATIVE_H
#define LLM_ROUTER_NATIVE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *native_configure(PyObject *self, PyObject *args, PyObject *kw);  /* features.c */
PyObject *native_featurize_into(PyObject *self, PyObject *args);           /* features.c */
PyObject *native_featurize_rows(PyObject *self, PyObject *args);           /* features.c */
PyObject *native_pii_candidate(PyObject *self, PyObject *text);            /* pii.c */
extern PyTypeObject NativeForestType;                                      /* forest.c */

#endif
