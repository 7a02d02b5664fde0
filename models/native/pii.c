#include "native.h"

#include <stdint.h>

/* ------------------------------------------------------------------ personal data pre-check */

/* False only when core/pii.py cannot find anything: no '@' (e-mail), no two capitals and two digits
 * (IBAN), and no run of digits and number separators holding 8 or more digits (every card, phone,
 * My Number and SSN rule needs at least 8). Digits are Unicode decimals, as the regexes' \d. */
PyObject *native_pii_candidate(PyObject *self, PyObject *text) {
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
