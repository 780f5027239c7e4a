// The only code in LesionMap that touches DCMTK; see ../CDCMTK/include/cdcmtk.h for the contract.
// Built as its own shared library (libLesionMapDCMTK.so) that CDCMTK loads on first use (see CDCMTK/cdcmtk.c).
#include "cdcmtk.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

struct cdcm_file {
    DcmFileFormat format;
    bool decompressed = false;
};

namespace {

std::once_flag setupOnce;

void setup() {
    std::call_once(setupOnce, [] {
        // Problems are reported through cdcm_error; DCMTK's own log would only repeat them on stderr.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

void fail(cdcm_error *error, int code, const std::string &message) {
    if (!error) return;
    error->code = code;
    std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
}

void ok(cdcm_error *error) {
    if (!error) return;
    error->code = CDCM_OK;
    error->message[0] = 0;
}

DcmItem *asItem(cdcm_item *item) { return reinterpret_cast<DcmItem *>(item); }
cdcm_item *asHandle(DcmItem *item) { return reinterpret_cast<cdcm_item *>(item); }

std::string tagText(uint16_t g, uint16_t e) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "(%04X,%04X)", g, e);
    return buf;
}

char *copyString(const OFString &s) {
    char *out = static_cast<char *>(std::malloc(s.length() + 1));
    if (!out) return nullptr;
    std::memcpy(out, s.c_str(), s.length());
    out[s.length()] = 0;
    return out;
}

DcmElement *element(cdcm_item *item, uint16_t g, uint16_t e) {
    if (!item) return nullptr;
    DcmElement *el = nullptr;
    if (asItem(item)->findAndGetElement(DcmTagKey(g, e), el, OFFalse).bad()) return nullptr;
    return el;
}

/// Parses backslash-separated numbers; returns the count, or -1 when one is not a number.
long parseNumbers(const char *text, size_t length, double *out, size_t capacity) {
    if (length == 0) return 0;
    long count = 0;
    const char *p = text;
    const char *end = p + length;
    while (p <= end) {
        const char *sep = static_cast<const char *>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
        const char *stop = sep ? sep : end;
        std::string token(p, stop);
        size_t a = token.find_first_not_of(" \t\r\n\0");
        size_t b = token.find_last_not_of(" \t\r\n\0");
        if (a == std::string::npos) return -1;
        token = token.substr(a, b - a + 1);
        char *parsed = nullptr;
        double v = std::strtod(token.c_str(), &parsed);
        if (parsed == token.c_str() || *parsed != 0) return -1;
        if (static_cast<size_t>(count) < capacity) out[count] = v;
        ++count;
        if (!sep) break;
        p = sep + 1;
    }
    return count;
}

bool ensureDecompressed(cdcm_file *file, cdcm_error *error) {
    if (file->decompressed) return true;
    DcmDataset *ds = file->format.getDataset();
    DcmXfer original(ds->getOriginalXfer());
    if (original.isEncapsulated()) {
        OFCondition c = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
            fail(error, CDCM_ERR_PIXELS,
                 std::string("cannot decompress pixel data in transfer syntax ") + original.getXferName() + ": " +
                     c.text());
            return false;
        }
    }
    file->decompressed = true;
    return true;
}

/// The whole value of an element as text. String VRs are read directly (one pass, no per-value
/// normalisation, which is quadratic in DCMTK for long multi-valued DS such as ContourData).
bool valueText(DcmElement *el, OFString &out) {
    // A private element of an implicit-VR file that the dictionary does not know is read as UN: its bytes
    // are the value as written (text for DS/IS/LO...), not hexadecimal numbers.
    if (el->ident() == EVR_UN) {
        Uint8 *bytes = nullptr;
        if (el->getUint8Array(bytes).bad()) return false;
        out.assign(bytes ? reinterpret_cast<const char *>(bytes) : "", bytes ? el->getLength() : 0);
        return true;
    }
    if (el->isaString()) {
        char *raw = nullptr;
        Uint32 length = 0;
        DcmByteString *bs = OFdynamic_cast(DcmByteString *, el);
        if (bs && bs->getString(raw, length).good()) {
            out.assign(raw ? raw : "", raw ? length : 0);
            return true;
        }
    }
    return el->getOFStringArray(out).good();
}

/// Decodes one frame's stored values through `put(index, value)`.
template <typename Put>
int decodeFrame(cdcm_file *file, long frame, size_t count, cdcm_error *error, Put put) {
    if (!file) { fail(error, CDCM_ERR_ARGUMENT, "no file"); return 0; }
    cdcm_pixel_info info;
    if (!cdcm_pixel_info_get(file, &info, error)) return 0;
    if (frame < 0 || frame >= info.frames) {
        fail(error, CDCM_ERR_ARGUMENT, "frame " + std::to_string(frame) + " out of range (" +
                                           std::to_string(info.frames) + " frames)");
        return 0;
    }
    const size_t n = static_cast<size_t>(info.rows * info.columns * info.samples_per_pixel);
    if (count < n) { fail(error, CDCM_ERR_ARGUMENT, "output buffer too small for a frame"); return 0; }
    if (!ensureDecompressed(file, error)) return 0;
    DcmDataset *ds = file->format.getDataset();
    DcmElement *pix = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, pix).bad() || !pix) {
        fail(error, CDCM_ERR_MISSING, "no Pixel Data (7FE0,0010)");
        return 0;
    }
    const uint8_t *bytes = nullptr;
    OFCondition c;
    if (pix->getVR() == EVR_OW) {
        Uint16 *words = nullptr;
        c = pix->getUint16Array(words);
        bytes = reinterpret_cast<const uint8_t *>(words);
    } else {
        Uint8 *b = nullptr;
        c = pix->getUint8Array(b);
        bytes = b;
    }
    if (c.bad() || !bytes) {
        fail(error, CDCM_ERR_PIXELS, std::string("cannot read Pixel Data: ") + c.text());
        return 0;
    }
    const size_t length = pix->getLength();
    const int bits = info.bits_allocated;
    if (bits != 1 && bits != 8 && bits != 16 && bits != 32) {
        fail(error, CDCM_ERR_PIXELS, "unsupported Bits Allocated " + std::to_string(bits));
        return 0;
    }
    // The whole Pixel Data must be what the header describes: a shorter value is a truncated file, a longer
    // one means Rows, Columns, Bits Allocated, Samples per Pixel or Number of Frames are wrong, and reading
    // it with the header's layout would give wrong values.
    const size_t totalValues = static_cast<size_t>(info.frames) * n;
    const size_t expected = bits == 1 ? (totalValues + 7) / 8 : totalValues * static_cast<size_t>(bits / 8);
    if (length < expected || length > expected + 1) {
        fail(error, CDCM_ERR_PIXELS, "Pixel Data holds " + std::to_string(length) + " bytes, but Rows x Columns x Samples per Pixel x Number of Frames x Bits Allocated (" +
                                         std::to_string(info.rows) + " x " + std::to_string(info.columns) + " x " +
                                         std::to_string(info.samples_per_pixel) + " x " + std::to_string(info.frames) +
                                         " x " + std::to_string(bits) + " bits) need " + std::to_string(expected));
        return 0;
    }
    if (info.bits_stored < 1 || info.bits_stored > bits || info.high_bit < info.bits_stored - 1 ||
        info.high_bit >= bits || (info.pixel_representation != 0 && info.pixel_representation != 1)) {
        fail(error, CDCM_ERR_PIXELS, "inconsistent pixel description: Bits Allocated " + std::to_string(bits) +
                                         ", Bits Stored " + std::to_string(info.bits_stored) + ", High Bit " +
                                         std::to_string(info.high_bit) + ", Pixel Representation " +
                                         std::to_string(info.pixel_representation));
        return 0;
    }
    if (bits == 1) {
        const size_t first = static_cast<size_t>(frame) * n;
        for (size_t i = 0; i < n; ++i) {
            size_t bit = first + i;
            put(i, (bytes[bit >> 3] >> (bit & 7)) & 1);
        }
        ok(error);
        return 1;
    }
    const size_t width = static_cast<size_t>(bits / 8);
    const size_t offset = static_cast<size_t>(frame) * n * width;
    if (offset + n * width > length) {
        fail(error, CDCM_ERR_PIXELS, "Pixel Data holds " + std::to_string(length) + " bytes, frame " +
                                         std::to_string(frame) + " needs " + std::to_string(offset + n * width));
        return 0;
    }
    const int stored = info.bits_stored;
    const int shift = info.high_bit - stored + 1;
    const uint64_t mask = stored == 64 ? ~0ull : ((1ull << stored) - 1);
    const bool isSigned = info.pixel_representation == 1;
    const uint8_t *p = bytes + offset;
    for (size_t i = 0; i < n; ++i) {
        uint64_t raw;
        if (width == 1) raw = p[i];
        else if (width == 2) { uint16_t v; std::memcpy(&v, p + 2 * i, 2); raw = v; }
        else { uint32_t v; std::memcpy(&v, p + 4 * i, 4); raw = v; }
        raw = (raw >> shift) & mask;
        int64_t value = static_cast<int64_t>(raw);
        if (isSigned && stored < 64 && (raw >> (stored - 1)) & 1) value -= static_cast<int64_t>(1ull << stored);
        put(i, value);
    }
    ok(error);
    return 1;
}

}  // namespace

extern "C" {

cdcm_file *cdcm_open(const char *path, uint32_t defer_length, cdcm_error *error) {
    setup();
    if (!path) { fail(error, CDCM_ERR_ARGUMENT, "no path"); return nullptr; }
    cdcm_file *file = new cdcm_file();
    const Uint32 maxRead = defer_length == 0 ? OFstatic_cast(Uint32, -1) : defer_length;
    OFCondition c = file->format.loadFile(path, EXS_Unknown, EGL_noChange, maxRead, ERM_autoDetect);
    if (c.bad()) {
        // The caller names the file; the message says only what went wrong.
        fail(error, CDCM_ERR_OPEN, std::string("cannot be read as DICOM (") + c.text() + ")");
        delete file;
        return nullptr;
    }
    ok(error);
    return file;
}

cdcm_file *cdcm_create(void) {
    setup();
    return new cdcm_file();
}

void cdcm_close(cdcm_file *file) { delete file; }

cdcm_item *cdcm_dataset(cdcm_file *file) { return file ? asHandle(file->format.getDataset()) : nullptr; }

char *cdcm_transfer_syntax(cdcm_file *file) {
    if (!file) return nullptr;
    DcmXfer x(file->format.getDataset()->getOriginalXfer());
    return copyString(x.getXferID());
}

int cdcm_has(cdcm_item *item, uint16_t group, uint16_t element) {
    return item && asItem(item)->tagExists(DcmTagKey(group, element), OFFalse) ? 1 : 0;
}

char *cdcm_string(cdcm_item *item, uint16_t group, uint16_t element_) {
    DcmElement *el = element(item, group, element_);
    if (!el || el->ident() == EVR_SQ) return nullptr;
    OFString s;
    if (el->getLength() == 0) return copyString(OFString());
    if (!valueText(el, s)) return nullptr;
    return copyString(s);
}

long cdcm_number_count(cdcm_item *item, uint16_t group, uint16_t element_) {
    const long count = cdcm_numbers(item, group, element_, nullptr, 0);
    return count < 0 ? 0 : count;
}

long cdcm_numbers(cdcm_item *item, uint16_t group, uint16_t element_, double *out, size_t capacity) {
    DcmElement *el = element(item, group, element_);
    if (!el || el->ident() == EVR_SQ || el->getLength() == 0) return 0;
    OFString s;
    if (!valueText(el, s)) return -1;
    return parseNumbers(s.c_str(), s.length(), out, capacity);
}

long cdcm_sequence_count(cdcm_item *item, uint16_t group, uint16_t element) {
    if (!item) return 0;
    DcmSequenceOfItems *seq = nullptr;
    if (asItem(item)->findAndGetSequence(DcmTagKey(group, element), seq, OFFalse).bad() || !seq) return 0;
    return static_cast<long>(seq->card());
}

cdcm_item *cdcm_sequence_item(cdcm_item *item, uint16_t group, uint16_t element, long index) {
    if (!item || index < 0) return nullptr;
    DcmSequenceOfItems *seq = nullptr;
    if (asItem(item)->findAndGetSequence(DcmTagKey(group, element), seq, OFFalse).bad() || !seq) return nullptr;
    if (static_cast<unsigned long>(index) >= seq->card()) return nullptr;
    return asHandle(seq->getItem(static_cast<unsigned long>(index)));
}

int cdcm_pixel_info_get(cdcm_file *file, cdcm_pixel_info *info, cdcm_error *error) {
    if (!file || !info) { fail(error, CDCM_ERR_ARGUMENT, "no file"); return 0; }
    DcmDataset *ds = file->format.getDataset();
    Uint16 rows = 0, cols = 0, alloc = 0, stored = 0, high = 0, rep = 0, spp = 1;
    if (ds->findAndGetUint16(DCM_Rows, rows).bad() || ds->findAndGetUint16(DCM_Columns, cols).bad() ||
        ds->findAndGetUint16(DCM_BitsAllocated, alloc).bad()) {
        fail(error, CDCM_ERR_MISSING, "Rows, Columns or Bits Allocated is missing");
        return 0;
    }
    if (!ds->tagExists(DCM_PixelData)) {
        fail(error, CDCM_ERR_MISSING, "no Pixel Data (7FE0,0010)");
        return 0;
    }
    if (ds->findAndGetUint16(DCM_BitsStored, stored).bad()) stored = alloc;
    if (ds->findAndGetUint16(DCM_HighBit, high).bad()) high = stored > 0 ? stored - 1 : 0;
    ds->findAndGetUint16(DCM_PixelRepresentation, rep);
    if (ds->findAndGetUint16(DCM_SamplesPerPixel, spp).bad() || spp == 0) spp = 1;
    Sint32 frames = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    info->rows = rows;
    info->columns = cols;
    info->frames = frames;
    info->samples_per_pixel = spp;
    info->bits_allocated = alloc;
    info->bits_stored = stored;
    info->high_bit = high;
    info->pixel_representation = rep;
    info->encapsulated = DcmXfer(ds->getOriginalXfer()).isEncapsulated() ? 1 : 0;
    info->pixel_data_length = 0;
    DcmElement *pix = nullptr;
    if (!info->encapsulated && ds->findAndGetElement(DCM_PixelData, pix).good() && pix) {
        info->pixel_data_length = pix->getLength();
    }
    ok(error);
    return 1;
}

int cdcm_frame_int32(cdcm_file *file, long frame, int32_t *out, size_t count, cdcm_error *error) {
    if (!out) { fail(error, CDCM_ERR_ARGUMENT, "no output buffer"); return 0; }
    return decodeFrame(file, frame, count, error,
                       [out](size_t i, int64_t v) { out[i] = static_cast<int32_t>(v); });
}

int cdcm_frame_float(cdcm_file *file, long frame, float *out, size_t count, cdcm_error *error) {
    if (!out) { fail(error, CDCM_ERR_ARGUMENT, "no output buffer"); return 0; }
    return decodeFrame(file, frame, count, error, [out](size_t i, int64_t v) { out[i] = static_cast<float>(v); });
}

int cdcm_set_string(cdcm_item *item, uint16_t group, uint16_t element, const char *value, cdcm_error *error) {
    if (!item || !value) { fail(error, CDCM_ERR_ARGUMENT, "no item or value"); return 0; }
    OFCondition c = asItem(item)->putAndInsertString(DcmTagKey(group, element), value);
    if (c.bad()) {
        fail(error, CDCM_ERR_WRITE, "cannot set " + tagText(group, element) + ": " + c.text());
        return 0;
    }
    ok(error);
    return 1;
}

int cdcm_set_decimal_string(cdcm_item *item, uint16_t group, uint16_t element, const char *value, cdcm_error *error) {
    if (!item || !value) { fail(error, CDCM_ERR_ARGUMENT, "no item or value"); return 0; }
    DcmTag tag(DcmTagKey(group, element));
    tag.setVR(DcmVR(EVR_DS));
    DcmDecimalString *el = new DcmDecimalString(tag);
    OFCondition c = el->putString(value);
    if (c.good()) c = asItem(item)->insert(el, OFTrue);
    else delete el;
    if (c.bad()) {
        fail(error, CDCM_ERR_WRITE, "cannot set " + tagText(group, element) + ": " + c.text());
        return 0;
    }
    ok(error);
    return 1;
}

cdcm_item *cdcm_sequence_append(cdcm_item *item, uint16_t group, uint16_t element, cdcm_error *error) {
    if (!item) { fail(error, CDCM_ERR_ARGUMENT, "no item"); return nullptr; }
    DcmItem *created = nullptr;
    OFCondition c = asItem(item)->findOrCreateSequenceItem(DcmTagKey(group, element), created, -2);
    if (c.bad() || !created) {
        fail(error, CDCM_ERR_WRITE, "cannot append an item to " + tagText(group, element) + ": " + c.text());
        return nullptr;
    }
    ok(error);
    return asHandle(created);
}

int cdcm_set_tag(cdcm_item *item, uint16_t group, uint16_t element, uint16_t value_group, uint16_t value_element,
                 cdcm_error *error) {
    if (!item) { fail(error, CDCM_ERR_ARGUMENT, "no item"); return 0; }
    OFCondition c = asItem(item)->putAndInsertTagKey(DcmTagKey(group, element), DcmTagKey(value_group, value_element));
    if (c.bad()) {
        fail(error, CDCM_ERR_WRITE, "cannot set " + tagText(group, element) + ": " + c.text());
        return 0;
    }
    ok(error);
    return 1;
}

int cdcm_set_pixel_bytes(cdcm_item *item, const uint8_t *bytes, size_t length, int words, cdcm_error *error) {
    if (!item || !bytes) { fail(error, CDCM_ERR_ARGUMENT, "no item or pixel bytes"); return 0; }
    OFCondition c;
    if (words) {
        if (length % 2 != 0) { fail(error, CDCM_ERR_ARGUMENT, "odd byte count for 16-bit words"); return 0; }
        std::vector<Uint16> w(length / 2);
        for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<Uint16>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
        c = asItem(item)->putAndInsertUint16Array(DCM_PixelData, w.data(), static_cast<unsigned long>(w.size()));
    } else {
        c = asItem(item)->putAndInsertUint8Array(DCM_PixelData, bytes, static_cast<unsigned long>(length));
    }
    if (c.bad()) {
        fail(error, CDCM_ERR_WRITE, std::string("cannot set Pixel Data: ") + c.text());
        return 0;
    }
    ok(error);
    return 1;
}

int cdcm_save(cdcm_file *file, const char *path, cdcm_error *error) {
    if (!file || !path) { fail(error, CDCM_ERR_ARGUMENT, "no file or path"); return 0; }
    OFCondition c = file->format.saveFile(path, EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL,
                                          EPD_noChange, 0, 0, EWM_createNewMeta);
    if (c.bad()) {
        fail(error, CDCM_ERR_WRITE, std::string("cannot write ") + path + ": " + c.text());
        return 0;
    }
    ok(error);
    return 1;
}

void cdcm_generate_uid(char *out, size_t capacity) {
    if (!out || capacity == 0) return;
    char buf[100];
    dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
    std::snprintf(out, capacity, "%s", buf);
}

void cdcm_free(void *pointer) { std::free(pointer); }

}  // extern "C"
