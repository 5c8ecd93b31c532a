/*
 * tfjs_map.h - placing TF.js weights into a built network by a name map
 * (tfjs_load.c), shared by the map files of cnn_tfjs_import() and the maps
 * keras.c makes from a Keras topology: one path for both.
 *
 * Internal to libcnn.
 */
#ifndef CNN_TFJS_MAP_H
#define CNN_TFJS_MAP_H

#include "cnn.h"

#ifndef CNN_HIDDEN
#define CNN_HIDDEN __attribute__((visibility("hidden")))
#endif

/* Fill every parameter of net from w by the map text (the lines of
 * cnn_tfjs_import()'s map; tfjs_load.c describes them and the layouts);
 * name is the map's in messages ("NAME:LINE: what"). */
CNN_HIDDEN int cnn_tfjs_place(cnn_net *net, const cnn_tfjs *w, const char *name,
			      const char *text);

#endif
