/*
 * font.h - the bitmap font of the labels drawn on images and plots.
 */
#ifndef CNN_FONT_H
#define CNN_FONT_H

#include "core/box.h"

/* The bitmap font (font.c): CNN_GLYPH_H rows of CNN_GLYPH_W bits each,
 * bit 4 the leftmost column; characters outside printable ASCII draw as
 * '?'.  Rows 0..6 hold capitals and digits, rows 7..8 descenders. */
#define CNN_GLYPH_W 5
#define CNN_GLYPH_H 9
#define CNN_GLYPH_ADVANCE 6 /* columns from one character to the next */
#define CNN_GLYPH_LINE 11   /* rows from one line to the next */
CNN_HIDDEN const uint8_t *cnn_glyph(unsigned char c);

#endif
