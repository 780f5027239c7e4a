// C face of the serial HDF5 library for Swift, loaded on first use.
//
// Only commands that read or write an HDF5 store need HDF5 (`lesionmap features IMAGE MASK` never does). Linking
// it made every process load it and its 35 dependencies (libcurl, GnuTLS, OpenSSL, Kerberos, LDAP, ...) at start,
// about 8 ms of dynamic loading per process. Instead, the first call of any function below opens the library
// (dlopen: libhdf5_serial.so.103, Debian's serial HDF5 1.10, or another soname of HDF5 1.10 or later) and finds
// its functions and predefined identifiers in it; a process that makes no such call never loads it. If it cannot
// be loaded, the process stops with exit status 70 and a message naming the library and the Debian package that
// provides it (a linked library would have stopped it at start).
//
// `lm_H5Xxx` takes the arguments of HDF5's `H5Xxx` and returns what it returns (CHDF5.c checks that each has
// exactly the type of HDF5's own function). HDF5's macro constants (property list classes, predefined types,
// file access flags) and the helpers for strings, the error stack and property lists are the `chdf5_` functions.
// This header does not include hdf5.h, so users need no HDF5 include path; it declares the few HDF5 types and
// enumerators Swift uses under HDF5's own names, and CHDF5.c, which includes hdf5.h as well, has the compiler
// check that they are the library's.
#ifndef LESIONMAP_CHDF5_H
#define LESIONMAP_CHDF5_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// HDF5's integer types as HDF5 1.10 and later define them (an identical typedef may be repeated in C11; a
// different one is an error where CHDF5.c includes both headers).
typedef int64_t hid_t;
typedef int herr_t;
typedef int htri_t;
typedef unsigned long long hsize_t;
typedef signed long long hssize_t;

// The values of the enumerators Swift uses (CHDF5.c checks each against hdf5.h).
#define LM_H5I_BADID (-1)
#define LM_H5I_FILE 1
#define LM_H5I_GROUP 2
#define LM_H5I_DATASET 5
#define LM_H5_INDEX_UNKNOWN (-1)
#define LM_H5_INDEX_NAME 0
#define LM_H5_ITER_UNKNOWN (-1)
#define LM_H5_ITER_INC 0
#define LM_H5S_NO_CLASS (-1)
#define LM_H5S_SCALAR 0
#define LM_H5F_SCOPE_LOCAL 0
#define LM_H5F_SCOPE_GLOBAL 1
#define LM_H5T_NO_CLASS (-1)
#define LM_H5T_INTEGER 0
#define LM_H5T_FLOAT 1
#define LM_H5T_STRING 3
#define LM_H5T_STR_ERROR (-1)
#define LM_H5T_STR_NULLTERM 0
#define LM_H5T_STR_NULLPAD 1
#define LM_H5T_STR_SPACEPAD 2

#ifndef H5public_H // hdf5.h not included (Swift, and every user but CHDF5.c): HDF5's enumerations, in part
typedef enum H5I_type_t { H5I_BADID = LM_H5I_BADID, H5I_FILE = LM_H5I_FILE, H5I_GROUP = LM_H5I_GROUP,
                          H5I_DATASET = LM_H5I_DATASET } H5I_type_t;
typedef enum H5_index_t { H5_INDEX_UNKNOWN = LM_H5_INDEX_UNKNOWN, H5_INDEX_NAME = LM_H5_INDEX_NAME } H5_index_t;
typedef enum H5_iter_order_t { H5_ITER_UNKNOWN = LM_H5_ITER_UNKNOWN, H5_ITER_INC = LM_H5_ITER_INC } H5_iter_order_t;
typedef enum H5S_class_t { H5S_NO_CLASS = LM_H5S_NO_CLASS, H5S_SCALAR = LM_H5S_SCALAR } H5S_class_t;
typedef enum H5F_scope_t { H5F_SCOPE_LOCAL = LM_H5F_SCOPE_LOCAL, H5F_SCOPE_GLOBAL = LM_H5F_SCOPE_GLOBAL } H5F_scope_t;
typedef enum H5T_class_t { H5T_NO_CLASS = LM_H5T_NO_CLASS, H5T_INTEGER = LM_H5T_INTEGER, H5T_FLOAT = LM_H5T_FLOAT,
                           H5T_STRING = LM_H5T_STRING } H5T_class_t;
typedef enum H5T_str_t { H5T_STR_ERROR = LM_H5T_STR_ERROR, H5T_STR_NULLTERM = LM_H5T_STR_NULLTERM,
                         H5T_STR_NULLPAD = LM_H5T_STR_NULLPAD, H5T_STR_SPACEPAD = LM_H5T_STR_SPACEPAD } H5T_str_t;
#endif

// The HDF5 functions Swift calls: X(return type, name, parameters, arguments).
#define CHDF5_FUNCTIONS(X)                                                                                          \
    X(herr_t, H5Aclose, (hid_t attr_id), (attr_id))                                                                 \
    X(hid_t, H5Acreate2, (hid_t loc_id, const char *attr_name, hid_t type_id, hid_t space_id, hid_t acpl_id,        \
                          hid_t aapl_id), (loc_id, attr_name, type_id, space_id, acpl_id, aapl_id))                 \
    X(herr_t, H5Adelete, (hid_t loc_id, const char *attr_name), (loc_id, attr_name))                                \
    X(htri_t, H5Aexists, (hid_t obj_id, const char *attr_name), (obj_id, attr_name))                                \
    X(ssize_t, H5Aget_name_by_idx, (hid_t loc_id, const char *obj_name, H5_index_t idx_type, H5_iter_order_t order, \
                                    hsize_t n, char *name, size_t size, hid_t lapl_id),                             \
      (loc_id, obj_name, idx_type, order, n, name, size, lapl_id))                                                  \
    X(hid_t, H5Aget_space, (hid_t attr_id), (attr_id))                                                              \
    X(hid_t, H5Aget_type, (hid_t attr_id), (attr_id))                                                               \
    X(hid_t, H5Aopen, (hid_t obj_id, const char *attr_name, hid_t aapl_id), (obj_id, attr_name, aapl_id))           \
    X(herr_t, H5Aread, (hid_t attr_id, hid_t type_id, void *buf), (attr_id, type_id, buf))                          \
    X(herr_t, H5Awrite, (hid_t attr_id, hid_t type_id, const void *buf), (attr_id, type_id, buf))                   \
    X(herr_t, H5Dclose, (hid_t dset_id), (dset_id))                                                                 \
    X(hid_t, H5Dcreate2, (hid_t loc_id, const char *name, hid_t type_id, hid_t space_id, hid_t lcpl_id,             \
                          hid_t dcpl_id, hid_t dapl_id), (loc_id, name, type_id, space_id, lcpl_id, dcpl_id, dapl_id)) \
    X(hid_t, H5Dget_space, (hid_t dset_id), (dset_id))                                                              \
    X(hid_t, H5Dget_type, (hid_t dset_id), (dset_id))                                                               \
    X(hid_t, H5Dopen2, (hid_t loc_id, const char *name, hid_t dapl_id), (loc_id, name, dapl_id))                    \
    X(herr_t, H5Dread, (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id,   \
                        void *buf), (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf))              \
    X(herr_t, H5Dwrite, (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id,  \
                         const void *buf), (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf))       \
    X(herr_t, H5Fclose, (hid_t file_id), (file_id))                                                                 \
    X(hid_t, H5Fcreate, (const char *filename, unsigned flags, hid_t fcpl_id, hid_t fapl_id),                       \
      (filename, flags, fcpl_id, fapl_id))                                                                          \
    X(herr_t, H5Fflush, (hid_t object_id, H5F_scope_t scope), (object_id, scope))                                   \
    X(ssize_t, H5Fget_file_image, (hid_t file_id, void *buf_ptr, size_t buf_len), (file_id, buf_ptr, buf_len))      \
    X(hid_t, H5Fopen, (const char *filename, unsigned flags, hid_t fapl_id), (filename, flags, fapl_id))            \
    X(hid_t, H5Gcreate2, (hid_t loc_id, const char *name, hid_t lcpl_id, hid_t gcpl_id, hid_t gapl_id),             \
      (loc_id, name, lcpl_id, gcpl_id, gapl_id))                                                                    \
    X(hid_t, H5Gopen2, (hid_t loc_id, const char *name, hid_t gapl_id), (loc_id, name, gapl_id))                    \
    X(H5I_type_t, H5Iget_type, (hid_t id), (id))                                                                    \
    X(herr_t, H5Ldelete, (hid_t loc_id, const char *name, hid_t lapl_id), (loc_id, name, lapl_id))                  \
    X(htri_t, H5Lexists, (hid_t loc_id, const char *name, hid_t lapl_id), (loc_id, name, lapl_id))                  \
    X(ssize_t, H5Lget_name_by_idx, (hid_t loc_id, const char *group_name, H5_index_t idx_type,                      \
                                    H5_iter_order_t order, hsize_t n, char *name, size_t size, hid_t lapl_id),      \
      (loc_id, group_name, idx_type, order, n, name, size, lapl_id))                                                \
    X(herr_t, H5Oclose, (hid_t object_id), (object_id))                                                             \
    X(htri_t, H5Oexists_by_name, (hid_t loc_id, const char *name, hid_t lapl_id), (loc_id, name, lapl_id))          \
    X(hid_t, H5Oopen, (hid_t loc_id, const char *name, hid_t lapl_id), (loc_id, name, lapl_id))                     \
    X(herr_t, H5Pclose, (hid_t plist_id), (plist_id))                                                               \
    X(hid_t, H5Pcreate, (hid_t cls_id), (cls_id))                                                                   \
    X(herr_t, H5Pset_create_intermediate_group, (hid_t plist_id, unsigned crt_intmd), (plist_id, crt_intmd))        \
    X(herr_t, H5Sclose, (hid_t space_id), (space_id))                                                               \
    X(hid_t, H5Screate, (H5S_class_t type), (type))                                                                 \
    X(hid_t, H5Screate_simple, (int rank, const hsize_t dims[], const hsize_t maxdims[]), (rank, dims, maxdims))    \
    X(int, H5Sget_simple_extent_dims, (hid_t space_id, hsize_t dims[], hsize_t maxdims[]), (space_id, dims, maxdims)) \
    X(int, H5Sget_simple_extent_ndims, (hid_t space_id), (space_id))                                                \
    X(hssize_t, H5Sget_simple_extent_npoints, (hid_t space_id), (space_id))                                         \
    X(herr_t, H5Tclose, (hid_t type_id), (type_id))                                                                 \
    X(hid_t, H5Tcopy, (hid_t type_id), (type_id))                                                                   \
    X(H5T_class_t, H5Tget_class, (hid_t type_id), (type_id))                                                        \
    X(size_t, H5Tget_size, (hid_t type_id), (type_id))                                                              \
    X(H5T_str_t, H5Tget_strpad, (hid_t type_id), (type_id))                                                         \
    X(htri_t, H5Tis_variable_str, (hid_t type_id), (type_id))

#define CHDF5_DECLARE(type, name, parameters, arguments) type lm_##name parameters;
CHDF5_FUNCTIONS(CHDF5_DECLARE)
#undef CHDF5_DECLARE

/// Whether the HDF5 library has been loaded (by a call of one of the functions of this header).
int chdf5_is_loaded(void);

/// Loads the HDF5 library now unless it is loaded (stopping the process as above when it cannot be).
void chdf5_load(void);

// File access flags (H5F_ACC_*).
unsigned chdf5_acc_rdonly(void);
unsigned chdf5_acc_rdwr(void);
unsigned chdf5_acc_trunc(void);
unsigned chdf5_acc_excl(void);

// Default identifiers (H5P_DEFAULT, H5S_ALL, H5E_DEFAULT).
hid_t chdf5_p_default(void);
hid_t chdf5_s_all(void);
hid_t chdf5_e_default(void);

// Property list classes (H5P_FILE_ACCESS, H5P_LINK_CREATE, H5P_DATASET_CREATE).
hid_t chdf5_p_file_access(void);
hid_t chdf5_p_link_create(void);
hid_t chdf5_p_dataset_create(void);

// Predefined datatypes (H5T_NATIVE_DOUBLE, ...), H5T_VARIABLE and H5S_UNLIMITED.
hid_t chdf5_t_native_double(void);
hid_t chdf5_t_native_float(void);
hid_t chdf5_t_native_int64(void);
hid_t chdf5_t_native_int32(void);
hid_t chdf5_t_ieee_f64le(void);
hid_t chdf5_t_std_i64le(void);
hid_t chdf5_t_c_s1(void);
size_t chdf5_t_variable(void);
hsize_t chdf5_s_unlimited(void);

/// A new variable-length, null-terminated UTF-8 string type (h5py reads it as str); the caller closes it with
/// H5Tclose. Returns a negative id on failure.
hid_t chdf5_vlen_utf8_string_type(void);

/// A new fixed-length, null-padded ASCII string type of `size` bytes; the caller closes it with H5Tclose.
/// Returns a negative id on failure.
hid_t chdf5_fixed_ascii_string_type(size_t size);

/// Frees the strings HDF5 allocated while reading variable-length data into `buf` (H5Treclaim of HDF5 1.12 and
/// later, H5Dvlen_reclaim before).
herr_t chdf5_reclaim_vlen(hid_t mem_type, hid_t space, void *buf);

/// Stops HDF5 printing its error stack to stderr; failures are reported by return codes instead.
herr_t chdf5_silence_errors(void);

/// Copies the innermost message of the current thread's error stack into `buffer` (empty when the stack is
/// empty) and clears the stack.
void chdf5_take_error_message(char *buffer, size_t size);

/// Whether the current error stack reports a failed checksum (Fletcher32 of a data chunk, or the checksum of an
/// HDF5 metadata block). Does not clear the stack.
int chdf5_error_is_checksum_failure(void);

/// The number of attributes attached to an object, or -1 on failure.
long long chdf5_attribute_count(hid_t object);

/// The number of links in a group (H5Gget_info), or -1 on failure.
long long chdf5_link_count(hid_t group);

/// A file access property list for a file built entirely in memory (the core driver without a backing store,
/// growing in `increment` bytes), in the format of HDF5 1.8; negative on failure. See CHDF5.c.
hid_t chdf5_memory_file_access(size_t increment);

/// A file creation property list whose root group records no times, with small chunk index nodes.
hid_t chdf5_untimed_file_creation(void);

/// A group creation property list recording no times.
hid_t chdf5_untimed_group_creation(void);

/// A dataset transfer property list whose type-conversion buffers are sized to `count` elements (1 KiB to
/// 1 MiB); the caller closes it with H5Pclose; negative on failure.
hid_t chdf5_transfer_list(hid_t file_type, hid_t mem_type, size_t count);

/// A dataset creation property list recording no times; with `chunk_rank` > 0, chunks of `chunk_dims`, each with a
/// Fletcher32 checksum.
hid_t chdf5_dataset_creation(int chunk_rank, const hsize_t *chunk_dims);

/// Whether the dataset's data passes through the Fletcher32 filter (1), not (0), or failure (-1).
int chdf5_dataset_has_fletcher32(hid_t dataset);

/// Where a dataset's stored bytes lie in its file: fills up to `capacity` ranges and returns how many there are,
/// or -1 on failure.
long long chdf5_dataset_storage_ranges(hid_t dataset, unsigned long long *offsets, unsigned long long *sizes,
                                       long long capacity);

/// Closes an object identifier with the call of its own type (H5Dclose, H5Gclose, H5Tclose, else H5Oclose).
herr_t chdf5_close_object(hid_t id);

/// Recomputes the checksum of a version 2/3 superblock of a file image (H5Fget_file_image of HDF5 1.10 returns
/// a stale one); 0, or -1 when `image` does not start with such a superblock.
int chdf5_repair_superblock_checksum(uint8_t *image, size_t size);

/// Sets the times of the superblock extension's and the root group's object headers of a file image to 0 (and
/// recomputes their checksums), so equal contents give equal bytes; 0, or -1 for an image that is not a version
/// 2/3 superblock image.
int chdf5_clear_header_times_of_image(uint8_t *image, size_t size);

#endif
