#include "png_io.h"
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int tutor_png_read_rgb(const char *path, int *width, int *height, unsigned char **pixels,
                       char *message, size_t message_capacity) {
    *pixels = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(message, message_capacity, "cannot open file");
        return -1;
    }
    unsigned char signature[8];
    if (fread(signature, 1, 8, file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        /* fopen succeeds on a directory on Linux; only the read fails (EISDIR). */
        if (ferror(file)) {
            snprintf(message, message_capacity, "cannot read file: %s", strerror(errno));
        } else {
            snprintf(message, message_capacity, "no PNG signature");
        }
        fclose(file);
        return -1;
    }
    struct error_context context;
    context.message = message;
    context.capacity = message_capacity;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    if (!png) {
        fclose(file);
        snprintf(message, message_capacity, "libpng could not start");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(file);
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
        fclose(file);
        return -1;
    }
    png_set_read_fn(png, file, read_from_file);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, 16384, 16384);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
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
    fclose(file);
    *width = (int)w;
    *height = (int)h;
    *pixels = buffer;
    return 0;
}

int tutor_png_write_rgb(const char *path, int width, int height, const unsigned char *pixels,
                        char *message, size_t message_capacity) {
    FILE *file = fopen(path, "wb");
    if (!file) {
        snprintf(message, message_capacity, "cannot create file");
        return -1;
    }
    struct error_context context;
    context.message = message;
    context.capacity = message_capacity;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        fclose(file);
        snprintf(message, message_capacity, "libpng could not start");
        return -1;
    }
    if (setjmp(context.jump)) {
        png_destroy_write_struct(&png, &info);
        fclose(file);
        return -1;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(file) != 0) {
        snprintf(message, message_capacity, "could not finish writing");
        return -1;
    }
    return 0;
}

void tutor_png_free(unsigned char *pixels) { free(pixels); }
