# cnn-boxes --to csv lines of detections (file 2) as darknet's detector
# valid writes them (print_detector_detections): "image class score xmin
# ymin xmax ymax", VOC's 1-based pixels clipped to the image.  File 1
# names record N's image on line N: "name width height".
NR == FNR { size[++k] = $0; next }
FNR > 1 {
	split(size[$1], s, " ")
	x1 = $2 + 1; y1 = $3 + 1; x2 = $4 + 1; y2 = $5 + 1
	if (x1 < 1) x1 = 1
	if (y1 < 1) y1 = 1
	if (x2 > s[2]) x2 = s[2]
	if (y2 > s[3]) y2 = s[3]
	printf "%s %d %.6f %.6f %.6f %.6f %.6f\n", s[1], $7, $6, x1, y1, x2, y2
}
