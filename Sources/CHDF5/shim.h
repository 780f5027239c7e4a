// C face of the serial HDF5 library for Swift.
//
// HDF5 exposes its file-access flags, default property lists and predefined
// datatypes as macros that expand to function calls or casts, which Swift
// cannot import; they are re-exported here as static inline functions.
// The helpers at the end cover variable-length UTF-8 strings and the error stack.
#ifndef LESIONMAP_CHDF5_SHIM_H
#define LESIONMAP_CHDF5_SHIM_H

#include <hdf5.h>
#include <stdio.h>
#include <string.h>

// File access flags.
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }

// Default identifiers.
static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }

// Property list classes.
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }

// Predefined datatypes.
static inline hid_t chdf5_t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t chdf5_t_c_s1(void) { return H5T_C_S1; }
static inline size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
static inline hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }

// A new variable-length, null-terminated UTF-8 string type (h5py reads it as str);
// the caller closes it with H5Tclose. Returns a negative id on failure.
static inline hid_t chdf5_vlen_utf8_string_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

// Frees the strings HDF5 allocated while reading variable-length data into `buf`.
static inline herr_t chdf5_reclaim_vlen(hid_t mem_type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(mem_type, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, buf);
#endif
}

// Stops HDF5 printing its error stack to stderr; failures are reported by return codes instead.
static inline herr_t chdf5_silence_errors(void) {
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct {
    char *buffer;
    size_t size;
} chdf5_error_sink;

static inline herr_t chdf5_error_walker(unsigned n, const H5E_error2_t *err, void *data) {
    chdf5_error_sink *sink = (chdf5_error_sink *)data;
    if (err == NULL || err->desc == NULL || sink->size == 0) return 0;
    // Walking downward, the last entry is the innermost (most specific) cause.
    snprintf(sink->buffer, sink->size, "%s (in %s)", err->desc,
             err->func_name != NULL ? err->func_name : "?");
    (void)n;
    return 0;
}

// Copies the innermost message of the current thread's error stack into `buffer`
// (empty when the stack is empty) and clears the stack.
static inline void chdf5_take_error_message(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = '\0';
    chdf5_error_sink sink = {buffer, size};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, chdf5_error_walker, &sink);
    H5Eclear2(H5E_DEFAULT);
}

// Counts the attributes attached to an object.
static inline herr_t chdf5_attribute_counter(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)loc; (void)name; (void)info;
    *(hsize_t *)data += 1;
    return 0;
}

static inline long long chdf5_attribute_count(hid_t object) {
    hsize_t count = 0;
    hsize_t index = 0;
    if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, chdf5_attribute_counter, &count) < 0)
        return -1;
    return (long long)count;
}

#endif
