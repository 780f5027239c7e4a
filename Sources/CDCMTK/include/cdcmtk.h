/* A small C face over DCMTK (dcmdata + JPEG, JPEG-LS and RLE decoders).
 *
 * Only this shim touches DCMTK. Files and items are opaque handles: an item handle
 * (the dataset or a sequence item) stays valid until its file is closed.
 * Functions that can fail take a `cdcm_error *` (may be NULL) and return 0 / NULL on failure.
 *
 * The implementation (CDCMTKLibrary/cdcmtk.cpp) lives in libLesionMapDCMTK.so, which the first call of any function
 * below loads (dlopen) from the folder of the lesionmap binary (or of the test bundle), or from the path in the
 * environment variable LESIONMAP_DICOM_LIBRARY; a process that reads no DICOM never loads DCMTK. When it cannot
 * be loaded, functions with a `cdcm_error *` fail with CDCM_ERR_LIBRARY and a message naming the file; the others
 * (cdcm_create, cdcm_generate_uid; the rest need a handle that only a loaded library gives) stop the process
 * with that message and exit status 70.
 */
#ifndef CDCMTK_H
#define CDCMTK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cdcm_file cdcm_file;
typedef struct cdcm_item cdcm_item;

/** Error codes. */
enum {
    CDCM_OK = 0,
    CDCM_ERR_OPEN = 1,        /* file missing, unreadable or not DICOM */
    CDCM_ERR_MISSING = 2,     /* a required element is absent */
    CDCM_ERR_PIXELS = 3,      /* pixel data cannot be decoded */
    CDCM_ERR_WRITE = 4,       /* element cannot be set or file cannot be saved */
    CDCM_ERR_ARGUMENT = 5,    /* bad index, size or buffer */
    CDCM_ERR_LIBRARY = 6      /* libLesionMapDCMTK.so (or a DCMTK library it needs) cannot be loaded */
};

typedef struct cdcm_error {
    int code;
    char message[512];
} cdcm_error;

/** Loads the implementation library now (the other functions do so at their first call): 1 when it is loaded, else
 *  0 with CDCM_ERR_LIBRARY and the reason. Lets a caller about to read many files report a missing library once.
 *  Defined by the loader (CDCMTK/cdcmtk.c) only. */
int cdcm_load(cdcm_error *error);

/** Opens a DICOM file (Part 10 or raw dataset). Values longer than `defer_length` bytes (0 = never defer)
 *  are read from the file only when used, so scanning a folder's headers stays cheap. */
cdcm_file *cdcm_open(const char *path, uint32_t defer_length, cdcm_error *error);
/** A new empty dataset to be filled and saved. */
cdcm_file *cdcm_create(void);
void cdcm_close(cdcm_file *file);
/** The main dataset of a file. */
cdcm_item *cdcm_dataset(cdcm_file *file);
/** The transfer syntax UID the file was read in (malloc'd, free with cdcm_free). */
char *cdcm_transfer_syntax(cdcm_file *file);

/** Whether the item holds the element (group, element) directly. */
int cdcm_has(cdcm_item *item, uint16_t group, uint16_t element);
/** The whole value as text (multiple values separated by backslashes), malloc'd; NULL when absent.
 *  Numbers of binary VRs (US, SS, UL, FD, ...) are formatted as text. */
char *cdcm_string(cdcm_item *item, uint16_t group, uint16_t element);
/** Number of numeric values of the element (0 when absent or empty). */
long cdcm_number_count(cdcm_item *item, uint16_t group, uint16_t element);
/** Writes up to `capacity` numeric values into `out`; returns the number of values the element holds
 *  (which may exceed `capacity`), or -1 when a value is not a number. Works for DS, IS and binary VRs. */
long cdcm_numbers(cdcm_item *item, uint16_t group, uint16_t element, double *out, size_t capacity);

/** Number of items in the sequence (0 when absent). */
long cdcm_sequence_count(cdcm_item *item, uint16_t group, uint16_t element);
/** Item `index` (0-based) of the sequence, or NULL. */
cdcm_item *cdcm_sequence_item(cdcm_item *item, uint16_t group, uint16_t element, long index);

/** Image pixel module facts of a dataset. Returns 0 when Rows/Columns/Bits Allocated or Pixel Data are missing.
 *  Absent Bits Stored defaults to Bits Allocated, absent High Bit to Bits Stored - 1, absent Samples per Pixel
 *  and Number of Frames to 1; the values are otherwise reported as found (not corrected), so callers can refuse
 *  inconsistent ones. `pixel_data_length` is the byte length of native (uncompressed) Pixel Data as stored in
 *  the file, read without loading the pixels; it is 0 when `encapsulated` (compressed transfer syntaxes). */
typedef struct cdcm_pixel_info {
    long rows, columns, frames, samples_per_pixel;
    int bits_allocated, bits_stored, high_bit, pixel_representation;
    unsigned long long pixel_data_length;
    int encapsulated;
} cdcm_pixel_info;
int cdcm_pixel_info_get(cdcm_file *file, cdcm_pixel_info *info, cdcm_error *error);

/** Stored values (before rescale) of frame `frame` (0-based) into `out`, which holds rows*columns*samples
 *  values. Decompresses encapsulated transfer syntaxes; handles 1-bit packing across frames,
 *  8/16/32 bits allocated, signed and unsigned values, and Bits Stored below Bits Allocated.
 *  Fails (CDCM_ERR_PIXELS) rather than guess when Bits Stored, High Bit or Pixel Representation are
 *  inconsistent, or when the Pixel Data length differs from what Rows x Columns x Samples per Pixel x
 *  Number of Frames x Bits Allocated describe (one trailing pad byte allowed). */
int cdcm_frame_int32(cdcm_file *file, long frame, int32_t *out, size_t count, cdcm_error *error);
/** As cdcm_frame_int32, converted to float. */
int cdcm_frame_float(cdcm_file *file, long frame, float *out, size_t count, cdcm_error *error);

/* Writing. Values are given as DICOM text (backslash-separated for multiple values);
 * the VR comes from the data dictionary, so numbers for US/UL/FD elements are parsed from the text. */
int cdcm_set_string(cdcm_item *item, uint16_t group, uint16_t element, const char *value, cdcm_error *error);
/** Sets a Decimal String (DS) value whatever the data dictionary says: for private elements, which the
 *  dictionary does not know (their VR would be unknown). */
int cdcm_set_decimal_string(cdcm_item *item, uint16_t group, uint16_t element, const char *value, cdcm_error *error);
/** Appends a new empty item to the sequence (created when absent) and returns it. */
cdcm_item *cdcm_sequence_append(cdcm_item *item, uint16_t group, uint16_t element, cdcm_error *error);
/** Sets an Attribute Tag (AT) value. */
int cdcm_set_tag(cdcm_item *item, uint16_t group, uint16_t element, uint16_t value_group, uint16_t value_element,
                 cdcm_error *error);
/** Sets Pixel Data (7FE0,0010) as OB bytes (1-bit or 8-bit frames) or, when `words` is non-zero, as OW from
 *  little-endian 16-bit words given as bytes. */
int cdcm_set_pixel_bytes(cdcm_item *item, const uint8_t *bytes, size_t length, int words, cdcm_error *error);
/** Saves as a Part 10 file in Explicit VR Little Endian, filling the file meta information. */
int cdcm_save(cdcm_file *file, const char *path, cdcm_error *error);
/** A new globally unique UID (DCMTK's site root) into `out` (at least 65 bytes). */
void cdcm_generate_uid(char *out, size_t capacity);

void cdcm_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
