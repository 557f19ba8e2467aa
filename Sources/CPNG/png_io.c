#include "png_io.h"
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libpng reports errors through a callback that must not return; we copy the message and
   longjmp back to the setjmp in the caller, which turns it into an ordinary return code. */
struct error_context {
    jmp_buf jump;
    char *message;
    size_t capacity;
};

static void on_error(png_structp png, png_const_charp text) {
    struct error_context *context = (struct error_context *)png_get_error_ptr(png);
    snprintf(context->message, context->capacity, "%s", text);
    longjmp(context->jump, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

/* Replaces libpng's default reader, whose only message for every failure is "Read Error",
   so that a cut-off file says so. */
static void read_from_file(png_structp png, png_bytep data, size_t length) {
    FILE *file = (FILE *)png_get_io_ptr(png);
    if (fread(data, 1, length, file) != length) {
        png_error(png, ferror(file) ? "read error" : "file is truncated");
    }
}

/* The bytes of a PNG already in memory, read front to back by read_from_memory. */
struct memory_input {
    const unsigned char *bytes;
    size_t count;
    size_t position;
};

static void read_from_memory(png_structp png, png_bytep data, size_t length) {
    struct memory_input *input = (struct memory_input *)png_get_io_ptr(png);
    if (length > input->count - input->position) png_error(png, "file is truncated");
    memcpy(data, input->bytes + input->position, length);
    input->position += length;
}

/* Decodes the PNG that `read` delivers from `source` (a file or a memory_input), whose 8-byte
   signature has already been read and checked. The caller keeps and releases `source`. */
static int decode_png(png_rw_ptr read, void *source, int *width, int *height, unsigned char **pixels,
                      char *message, size_t message_capacity) {
    struct error_context context;
    context.message = message;
    context.capacity = message_capacity;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    if (!png) {
        snprintf(message, message_capacity, "libpng could not start");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, message_capacity, "libpng could not start");
        return -1;
    }
    /* volatile: modified between setjmp and a possible longjmp. */
    unsigned char *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(context.jump)) {
        /* on_error has already written libpng's reason into message. (Do not test `info`
           after png_destroy_read_struct: it sets info to NULL.) */
        png_destroy_read_struct(&png, &info, NULL);
        free(buffer);
        free(rows);
        return -1;
    }
    png_set_read_fn(png, source, read);
    png_set_sig_bytes(png, 8);
    /* libpng's own limits stay wide open so that the check below, which names the numbers,
       is the one that speaks; ancillary chunks (text, ICC profiles) are capped at 8 MB each
       and 1000 in all, so they cannot be used as a memory bomb either. */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_chunk_malloc_max(png, 8000000);
    png_set_chunk_cache_max(png, 1000);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    /* A 32 KB file can claim 16384 x 16384 pixels (a "decompression bomb"): check the size
       the header claims before allocating or decoding anything. */
    if (w > TUTOR_PNG_MAX_SIDE || h > TUTOR_PNG_MAX_SIDE || (uint64_t)w * h > TUTOR_PNG_MAX_PIXELS) {
        snprintf(message, message_capacity,
                 "picture is %u x %u pixels; the limit is %d pixels per side and %d megapixels",
                 (unsigned)w, (unsigned)h, TUTOR_PNG_MAX_SIDE, TUTOR_PNG_MAX_PIXELS / 1000000);
        longjmp(context.jump, 1);
    }
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);

    /* 16 -> 8 bits by keeping the high byte of each sample (v >> 8). PIL does the same for
       16-bit RGB, but its convert("RGB") of 16-bit greyscale clips to 255 instead; the tests'
       fixtures (tools/fixtures/make_io_fixtures.py) pin the high-byte behaviour. */
    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * 3) {
        snprintf(message, message_capacity, "unexpected decoded row size");
        longjmp(context.jump, 1);
    }
    buffer = (unsigned char *)malloc((size_t)w * h * 3);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (!buffer || !rows) {
        snprintf(message, message_capacity, "out of memory");
        longjmp(context.jump, 1);
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = buffer + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *width = (int)w;
    *height = (int)h;
    *pixels = buffer;
    return 0;
}

int tutor_png_read_rgb(const char *path, int *width, int *height, unsigned char **pixels,
                       char *message, size_t message_capacity) {
    *pixels = NULL;
    /* O_NONBLOCK so that opening a FIFO cannot wait for a writer; fstat then refuses
       anything but a regular file (the Swift side checks too, but the path may have been
       swapped in between). */
    int descriptor = open(path, O_RDONLY | O_NONBLOCK);
    if (descriptor < 0) {
        snprintf(message, message_capacity, "cannot open file: %s", strerror(errno));
        return -1;
    }
    struct stat status;
    if (fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
        snprintf(message, message_capacity, "not a regular file");
        close(descriptor);
        return -1;
    }
    fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK);
    FILE *file = fdopen(descriptor, "rb");
    if (!file) {
        snprintf(message, message_capacity, "cannot open file");
        close(descriptor);
        return -1;
    }
    unsigned char signature[8];
    if (fread(signature, 1, 8, file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        if (ferror(file)) {
            snprintf(message, message_capacity, "cannot read file: %s", strerror(errno));
        } else {
            snprintf(message, message_capacity, "no PNG signature");
        }
        fclose(file);
        return -1;
    }
    int status_code = decode_png(read_from_file, file, width, height, pixels, message, message_capacity);
    fclose(file);
    return status_code;
}

int tutor_png_decode_rgb(const unsigned char *bytes, size_t count, int *width, int *height,
                         unsigned char **pixels, char *message, size_t message_capacity) {
    *pixels = NULL;
    if (count < 8 || png_sig_cmp((png_const_bytep)bytes, 0, 8) != 0) {
        snprintf(message, message_capacity, "no PNG signature");
        return -1;
    }
    struct memory_input input = {bytes, count, 8};
    return decode_png(read_from_memory, &input, width, height, pixels, message, message_capacity);
}

/* A growing memory buffer that libpng writes the encoded file into. */
struct memory_output {
    unsigned char *bytes;
    size_t count;
    size_t capacity;
};

static void write_to_memory(png_structp png, png_bytep data, size_t length) {
    struct memory_output *output = (struct memory_output *)png_get_io_ptr(png);
    if (output->count + length > output->capacity) {
        size_t capacity = output->capacity ? output->capacity : 4096;
        while (capacity < output->count + length) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(output->bytes, capacity);
        if (!grown) png_error(png, "out of memory");
        output->bytes = grown;
        output->capacity = capacity;
    }
    memcpy(output->bytes + output->count, data, length);
    output->count += length;
}

static void flush_memory(png_structp png) { (void)png; }

int tutor_png_encode_rgb(int width, int height, const unsigned char *pixels, unsigned char **bytes,
                         size_t *count, char *message, size_t message_capacity) {
    *bytes = NULL;
    *count = 0;
    struct error_context context;
    context.message = message;
    context.capacity = message_capacity;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        snprintf(message, message_capacity, "libpng could not start");
        return -1;
    }
    /* volatile: modified between setjmp and a possible longjmp. */
    struct memory_output output = {NULL, 0, 0};
    struct memory_output *volatile target = &output;
    if (setjmp(context.jump)) {
        png_destroy_write_struct(&png, &info);
        free(target->bytes);
        return -1;
    }
    png_set_write_fn(png, target, write_to_memory, flush_memory);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *bytes = output.bytes;
    *count = output.count;
    return 0;
}

void tutor_png_free(unsigned char *pixels) { free(pixels); }
