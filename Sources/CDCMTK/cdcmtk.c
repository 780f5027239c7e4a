// Loads the DCMTK shim, libLesionMapDCMTK.so, on the first call of a cdcm_* function and forwards every call to it
// (see include/cdcmtk.h). Linking DCMTK made every process load it and the libraries it pulls in (libxml2, ICU, the
// IJG and CharLS codecs) at start, about 6 ms, although most commands (`features` on NIfTI, `report`, ...) never
// read DICOM.
#define _GNU_SOURCE
#include "cdcmtk.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBRARY_NAME "libLesionMapDCMTK.so"
#define LIBRARY_VARIABLE "LESIONMAP_DICOM_LIBRARY"

// Every function of cdcmtk.h, once: the table of pointers and their lookup are generated from this list.
#define CDCM_FUNCTIONS(X)                                                                                              \
    X(open) X(create) X(close) X(dataset) X(transfer_syntax) X(has) X(string) X(number_count) X(numbers)            \
    X(sequence_count) X(sequence_item) X(pixel_info_get) X(frame_int32) X(frame_float) X(set_string)                \
    X(set_decimal_string) X(sequence_append) X(set_tag) X(set_pixel_bytes) X(save) X(generate_uid) X(free)

static struct {
#define FIELD(name) __typeof__(&cdcm_##name) name;
    CDCM_FUNCTIONS(FIELD)
#undef FIELD
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;                                        // written by load() only, read after pthread_once
static char failure[sizeof(((cdcm_error *)0)->message)];  // why loading failed, when it did

/// The folder of the image that holds this code: the shared library it is linked into, if any; otherwise the
/// executable (the lesionmap binary or the test bundle) read through /proc/self/exe, because the loader names the
/// main program by its argv[0], which may be a bare name found on PATH or a symbolic link.
static int own_folder(char *out, size_t capacity) {
    Dl_info info;
    struct link_map *map = NULL;
    if (dladdr1((void *)&cdcm_open, &info, (void **)&map, RTLD_DL_LINKMAP) && map && map->l_name && map->l_name[0]) {
        if ((size_t)snprintf(out, capacity, "%s", map->l_name) >= capacity) return 0;
    } else {
        ssize_t length = readlink("/proc/self/exe", out, capacity - 1);
        if (length <= 0) return 0;
        out[length] = 0;
    }
    char *slash = strrchr(out, '/');
    if (!slash) return 0;
    *slash = 0;
    return 1;
}

static void load(void) {
    char path[4096];
    const char *chosen = getenv(LIBRARY_VARIABLE);
    if (chosen && chosen[0]) {
        snprintf(path, sizeof(path), "%s", chosen);
    } else if (own_folder(path, sizeof(path) - sizeof("/" LIBRARY_NAME))) {
        strcat(path, "/" LIBRARY_NAME);
    } else {
        snprintf(failure, sizeof(failure), "cannot find the folder of the lesionmap binary to load the DICOM library "
                 LIBRARY_NAME " from; set " LIBRARY_VARIABLE " to its path");
        return;
    }
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        if (access(path, F_OK) != 0 && chosen && chosen[0])
            snprintf(failure, sizeof(failure), "the DICOM library %s named by " LIBRARY_VARIABLE " does not exist",
                     path);
        else if (access(path, F_OK) != 0)
            snprintf(failure, sizeof(failure), "the DICOM library %s is missing: keep " LIBRARY_NAME " in the same "
                     "folder as the lesionmap binary (build it with `swift build -c release "
                     "--static-swift-stdlib --product LesionMapDCMTK`), or set " LIBRARY_VARIABLE " to its path", path);
        else
            snprintf(failure, sizeof(failure), "cannot load the DICOM library %s (%s); it needs DCMTK 3.6.7 "
                     "(Debian: apt-get install libdcmtk17)", path, reason ? reason : "");
        return;
    }
#define LOOKUP(name)                                                                                                   \
    if (!(api.name = (__typeof__(api.name))dlsym(handle, "cdcm_" #name))) {                                          \
        snprintf(failure, sizeof(failure), "the DICOM library %s has no function cdcm_" #name                         \
                 " (built from another LesionMap version?); build it again with the binary", path);                   \
        return;                                                                                                        \
    }
    CDCM_FUNCTIONS(LOOKUP)
#undef LOOKUP
    loaded = 1;
}

/// Loads the library once; on failure reports why through `error` (CDCM_ERR_LIBRARY) and returns 0.
static int ready(cdcm_error *error) {
    pthread_once(&load_once, load);
    if (loaded) return 1;
    if (error) {
        error->code = CDCM_ERR_LIBRARY;
        snprintf(error->message, sizeof(error->message), "%s", failure);
    }
    return 0;
}

/// For functions without an error path: stops the process when the library cannot be loaded.
static void need(void) {
    if (ready(NULL)) return;
    fprintf(stderr, "lesionmap: %s\n", failure);
    exit(70);
}

int cdcm_load(cdcm_error *error) {
    if (!ready(error)) return 0;
    if (error) {
        error->code = CDCM_OK;
        error->message[0] = 0;
    }
    return 1;
}

cdcm_file *cdcm_open(const char *path, uint32_t defer_length, cdcm_error *error) {
    return ready(error) ? api.open(path, defer_length, error) : NULL;
}

cdcm_file *cdcm_create(void) {
    need();
    return api.create();
}

void cdcm_close(cdcm_file *file) {
    need();
    api.close(file);
}

cdcm_item *cdcm_dataset(cdcm_file *file) {
    need();
    return api.dataset(file);
}

char *cdcm_transfer_syntax(cdcm_file *file) {
    need();
    return api.transfer_syntax(file);
}

int cdcm_has(cdcm_item *item, uint16_t group, uint16_t element) {
    need();
    return api.has(item, group, element);
}

char *cdcm_string(cdcm_item *item, uint16_t group, uint16_t element) {
    need();
    return api.string(item, group, element);
}

long cdcm_number_count(cdcm_item *item, uint16_t group, uint16_t element) {
    need();
    return api.number_count(item, group, element);
}

long cdcm_numbers(cdcm_item *item, uint16_t group, uint16_t element, double *out, size_t capacity) {
    need();
    return api.numbers(item, group, element, out, capacity);
}

long cdcm_sequence_count(cdcm_item *item, uint16_t group, uint16_t element) {
    need();
    return api.sequence_count(item, group, element);
}

cdcm_item *cdcm_sequence_item(cdcm_item *item, uint16_t group, uint16_t element, long index) {
    need();
    return api.sequence_item(item, group, element, index);
}

int cdcm_pixel_info_get(cdcm_file *file, cdcm_pixel_info *info, cdcm_error *error) {
    return ready(error) ? api.pixel_info_get(file, info, error) : 0;
}

int cdcm_frame_int32(cdcm_file *file, long frame, int32_t *out, size_t count, cdcm_error *error) {
    return ready(error) ? api.frame_int32(file, frame, out, count, error) : 0;
}

int cdcm_frame_float(cdcm_file *file, long frame, float *out, size_t count, cdcm_error *error) {
    return ready(error) ? api.frame_float(file, frame, out, count, error) : 0;
}

int cdcm_set_string(cdcm_item *item, uint16_t group, uint16_t element, const char *value, cdcm_error *error) {
    return ready(error) ? api.set_string(item, group, element, value, error) : 0;
}

int cdcm_set_decimal_string(cdcm_item *item, uint16_t group, uint16_t element, const char *value, cdcm_error *error) {
    return ready(error) ? api.set_decimal_string(item, group, element, value, error) : 0;
}

cdcm_item *cdcm_sequence_append(cdcm_item *item, uint16_t group, uint16_t element, cdcm_error *error) {
    return ready(error) ? api.sequence_append(item, group, element, error) : NULL;
}

int cdcm_set_tag(cdcm_item *item, uint16_t group, uint16_t element, uint16_t value_group, uint16_t value_element,
                 cdcm_error *error) {
    return ready(error) ? api.set_tag(item, group, element, value_group, value_element, error) : 0;
}

int cdcm_set_pixel_bytes(cdcm_item *item, const uint8_t *bytes, size_t length, int words, cdcm_error *error) {
    return ready(error) ? api.set_pixel_bytes(item, bytes, length, words, error) : 0;
}

int cdcm_save(cdcm_file *file, const char *path, cdcm_error *error) {
    return ready(error) ? api.save(file, path, error) : 0;
}

void cdcm_generate_uid(char *out, size_t capacity) {
    need();
    api.generate_uid(out, capacity);
}

void cdcm_free(void *pointer) {
    need();
    api.free(pointer);
}
