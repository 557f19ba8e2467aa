#ifndef TUTOR_PNG_IO_H
#define TUTOR_PNG_IO_H
#include <stddef.h>

/* Decodes any PNG (grey, grey+alpha, palette, RGB, RGBA; 1 to 16 bits) into 8-bit RGB,
   dropping alpha as PIL's convert("RGB") does. On success returns 0 and sets *pixels to a
   malloc'ed buffer of width*height*3 bytes that the caller frees with tutor_png_free.
   On failure returns -1 and writes a one-line reason into message. Never aborts. */
int tutor_png_read_rgb(const char *path, int *width, int *height, unsigned char **pixels,
                       char *message, size_t message_capacity);

/* Encodes width*height*3 bytes of 8-bit RGB as a PNG file. Returns 0 or -1 with a reason. */
int tutor_png_write_rgb(const char *path, int width, int height, const unsigned char *pixels,
                        char *message, size_t message_capacity);

void tutor_png_free(unsigned char *pixels);
#endif
