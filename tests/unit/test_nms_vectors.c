/*
 * test_nms_vectors.c - cnn_nms keeps exactly what torchvision.ops.nms and
 * batched_nms keep, on the 1,000 random records of nms.vec (up to 5,000
 * boxes each, with clusters, exact duplicates, empty boxes, tied scores
 * and IoU thresholds from 0 to 1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "boxgen.h"
#include "tap.h"

static uint64_t fnv(const int64_t *idx, int64_t n)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (int64_t i = 0; i < n; i++)
		h = (h ^ (uint64_t)idx[i]) * 0x100000001b3u;
	return h;
}

/* NMS of record r as torchvision runs it: no score threshold, no limits. */
static int64_t run(const struct nms_record *rec, int agnostic, int64_t *keep)
{
	cnn_nms_opts o;

	cnn_nms_defaults(&o);
	o.score = -INFINITY;
	o.iou = rec->iou;
	o.agnostic = agnostic;
	return cnn_nms(rec->rows, rec->n, &o, keep, NULL);
}

static FILE *open_vectors(const char *name)
{
	const char *dir = getenv("CNN_TEST_DATA");
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/vectors", name);
	return fopen(path, "r");
}

/* "list R nms|batched I..." lines: the whole kept list. */
static void check_list(char *line, int64_t *keep)
{
	struct nms_record rec;
	char kind[16];
	int r, pos, ok = 1;
	int64_t n, i = 0;
	char *p;

	if (sscanf(line, "list %d %15s %n", &r, kind, &pos) != 2 || nms_record(r, &rec)) {
		tap_ok(0, "bad list line: %s", line);
		return;
	}
	n = run(&rec, strcmp(kind, "nms") == 0, keep);
	for (p = line + pos; *p && *p != '\n'; i++) {
		long long v = strtoll(p, &p, 10);
		ok &= i < n && keep[i] == v;
	}
	tap_ok(ok && i == n, "record %d: the %s list of %lld kept indices is torchvision's",
	       r, kind, (long long)n);
	free(rec.rows);
}

int main(void)
{
	FILE *f = open_vectors("nms.vec");
	int64_t *keep = malloc(5000 * sizeof *keep);
	char line[1 << 16];
	int records = 0, same[2] = {0, 0}, boxes_max = 0;
	long long boxes = 0;

	if (!tap_ok(f != NULL, "open nms.vec"))
		return tap_done();
	while (fgets(line, sizeof line, f)) {
		struct nms_record rec;
		unsigned long long hash[2];
		long long want[2];
		int r, n;
		double iou;

		if (line[0] == '#')
			continue;
		if (strncmp(line, "list ", 5) == 0) {
			check_list(line, keep);
			continue;
		}
		if (sscanf(line, "%d %d %lf %lld %llu %lld %llu", &r, &n, &iou, &want[0], &hash[0],
			   &want[1], &hash[1]) != 7 || nms_record(r, &rec) || rec.n != n ||
		    rec.iou != iou) {
			tap_ok(0, "record line does not match the generator: %s", line);
			break;
		}
		for (int k = 0; k < 2; k++) {
			int64_t got = run(&rec, k == 0, keep);
			int ok = got == want[k] && fnv(keep, got) == hash[k];
			if (!ok && same[k] == records)
				tap_ok(0, "record %d (%d boxes, IoU %g) %s: kept %lld, want %lld",
				       r, n, iou, k ? "batched_nms" : "nms", (long long)got, want[k]);
			same[k] += ok;
		}
		boxes += n;
		boxes_max = n > boxes_max ? n : boxes_max;
		records++;
		free(rec.rows);
	}
	fclose(f);
	tap_ok(records == 1000, "1000 records read (%lld boxes, at most %d in one)", boxes, boxes_max);
	tap_ok(same[0] == records, "nms: %d of %d records keep torchvision.ops.nms's boxes, in its order",
	       same[0], records);
	tap_ok(same[1] == records, "batched: %d of %d records keep batched_nms's boxes",
	       same[1], records);
	free(keep);
	return tap_done();
}
