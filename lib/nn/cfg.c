/*
 * cfg.c - darknet's model description dialect: "[section]" headers, then
 * "key=value" lines, "#" and ";" comments.
 *
 * Unlike darknet, nothing is silently defaulted or ignored: a key outside a
 * section, a bad value, or a key that no layer asked for is an error that
 * names the file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

struct cnn_cfg_entry {
	char *key, *value;
	int line, used;
};

struct cnn_cfg_section {
	char *name;
	int line;
	int n, cap;
	struct cnn_cfg_entry *entry;
	const cnn_cfg *cfg;
};

struct cnn_cfg {
	char *path;
	char *text;       /* the whole file, kept for the model file */
	int n;
	cnn_cfg_section *section;
};

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

void cnn_cfg_free(cnn_cfg *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < cfg->n; i++) {
		cnn_cfg_section *s = &cfg->section[i];
		for (int j = 0; j < s->n; j++) {
			free(s->entry[j].key);
			free(s->entry[j].value);
		}
		free(s->entry);
		free(s->name);
	}
	free(cfg->section);
	free(cfg->text);
	free(cfg->path);
	free(cfg);
}

static int add_section(cnn_cfg *cfg, const char *name, int line)
{
	cnn_cfg_section *grown = realloc(cfg->section, (cfg->n + 1) * sizeof *grown);

	if (!grown)
		return cnn_error("out of memory");
	cfg->section = grown;
	memset(&grown[cfg->n], 0, sizeof *grown);
	grown[cfg->n].line = line;
	grown[cfg->n].cfg = cfg;
	if (!(grown[cfg->n].name = strdup(name)))
		return cnn_error("out of memory");
	cfg->n++;
	return CNN_OK;
}

static int add_entry(cnn_cfg_section *s, const char *key, const char *value, int line)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 8;
		struct cnn_cfg_entry *grown = realloc(s->entry, cap * sizeof *grown);
		if (!grown)
			return cnn_error("out of memory");
		s->entry = grown;
		s->cap = cap;
	}
	s->entry[s->n] = (struct cnn_cfg_entry){strdup(key), strdup(value), line, 0};
	if (!s->entry[s->n].key || !s->entry[s->n].value)
		return cnn_error("out of memory");
	s->n++;
	return CNN_OK;
}

static int parse_line(cnn_cfg *cfg, char *raw, int line)
{
	char *s = trim(raw), *eq;

	if (*s == 0 || *s == '#' || *s == ';')
		return CNN_OK;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || trim(close + 1)[0] != 0 || close == s + 1)
			return cnn_error("%s:%d: malformed section header '%s'", cfg->path, line, s);
		*close = 0;
		return add_section(cfg, trim(s + 1), line);
	}
	if (!(eq = strchr(s, '=')))
		return cnn_error("%s:%d: expected key=value or [section], got '%.40s'",
				 cfg->path, line, s);
	if (cfg->n == 0)
		return cnn_error("%s:%d: '%.40s' comes before the first [section]", cfg->path,
				 line, s);
	*eq = 0;
	if (*trim(s) == 0)
		return cnn_error("%s:%d: a value with no key", cfg->path, line);
	return add_entry(&cfg->section[cfg->n - 1], trim(s), trim(eq + 1), line);
}

cnn_cfg *cnn_cfg_parse(const char *text, const char *path)
{
	cnn_cfg *cfg = calloc(1, sizeof *cfg);
	char *copy, *p, *next;
	int line = 1;

	if (!cfg || !(cfg->text = strdup(text)) || !(cfg->path = strdup(path)) ||
	    !(copy = strdup(text))) {
		cnn_cfg_free(cfg);
		cnn_error("out of memory");
		return NULL;
	}
	if (text[0] == 0) {
		free(copy);
		cnn_cfg_free(cfg);
		cnn_error("%s: empty", path);
		return NULL;
	}
	for (p = copy; p; p = next, line++) {
		next = strchr(p, '\n');
		if (next)
			*next++ = 0;
		if (parse_line(cfg, p, line)) {
			free(copy);
			cnn_cfg_free(cfg);
			return NULL;
		}
	}
	free(copy);
	if (cfg->n == 0) {
		cnn_error("%s: no [sections]: not a model description", path);
		cnn_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

cnn_cfg *cnn_cfg_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	cnn_cfg *cfg;

	if (!f) {
		cnn_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *grown = realloc(text, cap = 2 * cap + 8192);
			if (!grown) {
				free(text);
				fclose(f);
				cnn_error("out of memory");
				return NULL;
			}
			text = grown;
		}
		size_t got = fread(text + len, 1, 4096, f);
		len += got;
		if (got < 4096)
			break;
		if (len > (64u << 20)) {
			free(text);
			fclose(f);
			cnn_error("%s: over 64 MiB: not a model description", path);
			return NULL;
		}
	}
	fclose(f);
	text[len] = 0;
	if (strlen(text) != len) {
		free(text);
		cnn_error("%s: contains NUL bytes: not a model description", path);
		return NULL;
	}
	cfg = cnn_cfg_parse(text, path);
	free(text);
	return cfg;
}

int cnn_cfg_count(const cnn_cfg *cfg)
{
	return cfg->n;
}

cnn_cfg_section *cnn_cfg_section_at(const cnn_cfg *cfg, int i)
{
	return i >= 0 && i < cfg->n ? &cfg->section[i] : NULL;
}

const char *cnn_cfg_text(const cnn_cfg *cfg)
{
	return cfg->text;
}

const char *cnn_cfg_path(const cnn_cfg *cfg)
{
	return cfg->path;
}

const char *cnn_cfg_name(const cnn_cfg_section *s)
{
	return s->name;
}

int cnn_cfg_line(const cnn_cfg_section *s)
{
	return s->line;
}

/* A key given twice counts once, with its first value, as in darknet
 * (whose cfg files list testing settings before training ones). */
static struct cnn_cfg_entry *find(cnn_cfg_section *s, const char *key)
{
	struct cnn_cfg_entry *first = NULL;

	for (int i = 0; i < s->n; i++)
		if (strcmp(s->entry[i].key, key) == 0) {
			s->entry[i].used = 1;
			first = first ? first : &s->entry[i];
		}
	return first;
}

const char *cnn_cfg_str(cnn_cfg_section *s, const char *key, const char *dflt)
{
	struct cnn_cfg_entry *e = find(s, key);

	return e ? e->value : dflt;
}

int cnn_cfg_entries(const cnn_cfg_section *s)
{
	return s->n;
}

const char *cnn_cfg_entry_at(const cnn_cfg_section *s, int i, const char **value)
{
	*value = s->entry[i].value;
	return s->entry[i].key;
}

int cnn_cfg_has(cnn_cfg_section *s, const char *key)
{
	return find(s, key) != NULL;
}

static int bad_value(cnn_cfg_section *s, struct cnn_cfg_entry *e, const char *want)
{
	return cnn_error("%s:%d: [%s] %s=%s: %s", s->cfg->path, e->line, s->name, e->key,
			 e->value, want);
}

int cnn_cfg_int(cnn_cfg_section *s, const char *key, int dflt, int min, int max, int *v)
{
	struct cnn_cfg_entry *e = find(s, key);
	char *end;
	long x;

	if (!e) {
		*v = dflt;
		return CNN_OK;
	}
	errno = 0;
	x = strtol(e->value, &end, 10);
	if (errno || end == e->value || *trim(end) || x < min || x > max) {
		char want[96];
		snprintf(want, sizeof want, "want a whole number from %d to %d", min, max);
		return bad_value(s, e, want);
	}
	*v = (int)x;
	return CNN_OK;
}

int cnn_cfg_float(cnn_cfg_section *s, const char *key, float dflt, float min, float max, float *v)
{
	struct cnn_cfg_entry *e = find(s, key);
	char *end;
	double x;

	if (!e) {
		*v = dflt;
		return CNN_OK;
	}
	errno = 0;
	x = strtod(e->value, &end);
	if (errno || end == e->value || *trim(end) || !(x >= min && x <= max)) {
		char want[96];
		snprintf(want, sizeof want, "want a number from %g to %g", min, max);
		return bad_value(s, e, want);
	}
	*v = (float)x;
	return CNN_OK;
}

int cnn_cfg_list(cnn_cfg_section *s, const char *key, float *v, int max, int *n)
{
	struct cnn_cfg_entry *e = find(s, key);
	const char *p;

	*n = 0;
	if (!e)
		return CNN_OK;
	for (p = e->value;;) {
		char *end;
		double x = strtod(p, &end);
		if (end == p || *n == max)
			return bad_value(s, e, "want a list of numbers separated by commas");
		v[(*n)++] = (float)x;
		while (isspace((unsigned char)*end))
			end++;
		if (*end == 0)
			return CNN_OK;
		if (*end != ',')
			return bad_value(s, e, "want a list of numbers separated by commas");
		p = end + 1;
	}
}

int cnn_cfg_ints(cnn_cfg_section *s, const char *key, int64_t *v, int max, int64_t min,
		 int64_t max_value, int *n)
{
	struct cnn_cfg_entry *e = find(s, key);
	char want[128];
	const char *p;

	*n = 0;
	if (!e)
		return CNN_OK;
	snprintf(want, sizeof want, "want up to %d whole numbers from %lld to %lld "
		 "separated by commas", max, (long long)min, (long long)max_value);
	for (p = e->value;;) {
		char *end;
		long long x;
		errno = 0;
		x = strtoll(p, &end, 10);
		if (end == p || errno || x < min || x > max_value || *n == max)
			return bad_value(s, e, want);
		v[(*n)++] = x;
		while (isspace((unsigned char)*end))
			end++;
		if (*end == 0)
			return CNN_OK;
		if (*end != ',')
			return bad_value(s, e, want);
		p = end + 1;
	}
}

int cnn_cfg_choice(cnn_cfg_section *s, const char *key, const char *const *names,
		   int dflt, int *v)
{
	struct cnn_cfg_entry *e = find(s, key);
	char want[512] = "want one of:";

	if (!e) {
		*v = dflt;
		return CNN_OK;
	}
	for (int i = 0; names[i]; i++)
		if (strcmp(e->value, names[i]) == 0) {
			*v = i;
			return CNN_OK;
		}
	for (int i = 0; names[i]; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want), " %s", names[i]);
	return bad_value(s, e, want);
}

int cnn_cfg_check_used(const cnn_cfg_section *s)
{
	for (int i = 0; i < s->n; i++)
		if (!s->entry[i].used)
			return cnn_error("%s:%d: unknown key '%s' in [%s]", s->cfg->path,
					 s->entry[i].line, s->entry[i].key, s->name);
	return CNN_OK;
}

int cnn_cfg_error(const cnn_cfg_section *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return cnn_error("%s:%d: [%s]: %s", s->cfg->path, s->line, s->name, msg);
}
