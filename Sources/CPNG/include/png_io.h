#ifndef TUTOR_PNG_IO_H
#define TUTOR_PNG_IO_H
#include <stddef.h>

/* The largest picture tutor_png_read_rgb decodes: far above any photo a lesson needs, far
   below what a small "decompression bomb" file can claim (16384 x 16384 in 32 KB). */
#define TUTOR_PNG_MAX_SIDE 8192
#define TUTOR_PNG_MAX_PIXELS 40000000

/* Decodes any PNG (grey, grey+alpha, palette, RGB, RGBA; 1 to 16 bits) into 8-bit RGB,
   dropping alpha as PIL's convert("RGB") does. On success returns 0 and sets *pixels to a
   malloc'ed buffer of width*height*3 bytes that the caller frees with tutor_png_free.
   On failure returns -1 and writes a one-line reason into message. Never aborts. Refuses
   anything but a regular file, and pictures larger than TUTOR_PNG_MAX_SIDE per side or
   TUTOR_PNG_MAX_PIXELS in all (checked on the header, before decoding). */
int tutor_png_read_rgb(const char *path, int *width, int *height, unsigned char **pixels,
                       char *message, size_t message_capacity);

/* As tutor_png_read_rgb, on the `count` bytes of a PNG file already in memory. */
int tutor_png_decode_rgb(const unsigned char *bytes, size_t count, int *width, int *height,
                         unsigned char **pixels, char *message, size_t message_capacity);

/* Encodes width*height*3 bytes of 8-bit RGB as a PNG file in memory. On success returns 0
   and sets *bytes to a malloc'ed buffer of *count bytes that the caller frees with
   tutor_png_free; on failure returns -1 with a reason. */
int tutor_png_encode_rgb(int width, int height, const unsigned char *pixels, unsigned char **bytes,
                         size_t *count, char *message, size_t message_capacity);

void tutor_png_free(unsigned char *pixels);
#endif
