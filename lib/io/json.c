/*
 * json.c - a small recursive-descent JSON parser (RFC 8259), for boxes
 * written by other tools.  Nesting is limited so that hostile input cannot
 * exhaust the stack.
 */
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

#define MAX_DEPTH 64

struct parser {
	const char *s;
	size_t len, pos;
	int *line;
};

static int fail(struct parser *p, const char *what)
{
	return cnn_error("line %d: %s", *p->line, what);
}

static int peek(struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static void skip_space(struct parser *p)
{
	for (int c; (c = peek(p)) == ' ' || c == '\t' || c == '\r' || c == '\n'; p->pos++)
		if (c == '\n')
			(*p->line)++;
}

static int literal(struct parser *p, const char *word, enum json_type type, struct json *v)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "not a JSON value");
	p->pos += n;
	v->type = type;
	return CNN_OK;
}

static int number(struct parser *p, struct json *v)
{
	size_t start = p->pos;
	char buf[64];

	char *end;
	int c;

	if (peek(p) == '-')
		p->pos++;
	if (!(peek(p) >= '0' && peek(p) <= '9'))
		return fail(p, "not a JSON value");
	while (((c = peek(p)) >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
	       c == '+' || c == '-')
		p->pos++;
	if (p->pos - start >= sizeof buf)
		return fail(p, "number too long");
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = 0;
	v->type = JSON_NUMBER;
	v->number = strtod(buf, &end);
	return *end ? fail(p, "bad number") : CNN_OK;
}

static int hex4(struct parser *p, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		int c = peek(p), d = c >= '0' && c <= '9' ? c - '0' :
				     c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				     c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return fail(p, "bad \\u escape");
		*u = *u * 16 + (unsigned)d;
		p->pos++;
	}
	return CNN_OK;
}

/* A \u escape (a surrogate pair counts as one) as UTF-8; returns bytes. */
static int unicode(struct parser *p, char *out)
{
	unsigned u, lo;

	if (hex4(p, &u))
		return -1;
	if (u >= 0xd800 && u < 0xdc00) {
		if (peek(p) != '\\' || p->pos + 1 >= p->len || p->s[p->pos + 1] != 'u')
			return fail(p, "lone surrogate in \\u escape");
		p->pos += 2;
		if (hex4(p, &lo))
			return -1;
		if (lo < 0xdc00 || lo >= 0xe000)
			return fail(p, "bad surrogate pair in \\u escape");
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (u < 0x80)
		return out[0] = (char)u, 1;
	if (u < 0x800)
		return out[0] = (char)(0xc0 | u >> 6), out[1] = (char)(0x80 | (u & 0x3f)), 2;
	if (u < 0x10000)
		return out[0] = (char)(0xe0 | u >> 12), out[1] = (char)(0x80 | (u >> 6 & 0x3f)),
		       out[2] = (char)(0x80 | (u & 0x3f)), 3;
	return out[0] = (char)(0xf0 | u >> 18), out[1] = (char)(0x80 | (u >> 12 & 0x3f)),
	       out[2] = (char)(0x80 | (u >> 6 & 0x3f)), out[3] = (char)(0x80 | (u & 0x3f)), 4;
}

/* A string at p (on its opening quote) into *out, malloc'ed.  Escapes
 * only shrink text, so the raw length bounds the result. */
static int string(struct parser *p, char **out)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	size_t end = p->pos + 1, n = 0;
	char *s;

	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len)
		return fail(p, "unterminated string");
	if (!(*out = s = malloc(end - p->pos)))
		return cnn_error("out of memory");
	p->pos++;
	while (p->s[p->pos] != '"') {
		int c = (unsigned char)p->s[p->pos++];
		const char *e;
		if (c < 0x20)
			return fail(p, "control character in string");
		if (c != '\\') {
			s[n++] = (char)c;
			continue;
		}
		c = p->s[p->pos++];
		if (c == 'u') {
			int k = unicode(p, s + n);
			if (k < 0)
				return CNN_ERR;
			n += (size_t)k;
		} else if (c && (e = strchr(esc_in, c))) {
			s[n++] = esc_out[e - esc_in];
		} else {
			return fail(p, "bad escape in string");
		}
	}
	p->pos++;
	s[n] = 0;
	return CNN_OK;
}

static int value(struct parser *p, struct json *v, int depth);

static int grow(struct json *v, int *cap, int object)
{
	int ncap = 2 * *cap + 4;
	struct json *item = realloc(v->item, (size_t)ncap * sizeof *item);
	char **key = object ? realloc(v->key, (size_t)ncap * sizeof *key) : NULL;

	if (item)
		v->item = item;
	if (key)
		v->key = key;
	if (!item || (object && !key))
		return cnn_error("out of memory");
	*cap = ncap;
	return CNN_OK;
}

/* An object's member name and the colon after it. */
static int member_name(struct parser *p, char **key)
{
	skip_space(p);
	if (peek(p) != '"')
		return fail(p, "expected a member name");
	if (string(p, key))
		return CNN_ERR;
	skip_space(p);
	if (peek(p) != ':')
		return fail(p, "expected ':'");
	p->pos++;
	return CNN_OK;
}

/* The items of an array or the members of an object, after its opening
 * bracket, up to the closing one. */
static int members(struct parser *p, struct json *v, int depth, int object)
{
	int cap = 0, close = object ? '}' : ']';

	skip_space(p);
	if (peek(p) == close) {
		p->pos++;
		return CNN_OK;
	}
	for (;;) {
		int i = v->n;
		if (i == cap && grow(v, &cap, object))
			return CNN_ERR;
		/* Count the slot first, so that cnn_json_free() frees it
		 * whatever fails below. */
		memset(&v->item[i], 0, sizeof *v->item);
		if (object)
			v->key[i] = NULL;
		v->n++;
		if ((object && member_name(p, &v->key[i])) || value(p, &v->item[i], depth + 1))
			return CNN_ERR;
		skip_space(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) != close)
			return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		p->pos++;
		return CNN_OK;
	}
}

static int value(struct parser *p, struct json *v, int depth)
{
	if (depth > MAX_DEPTH)
		return fail(p, "nested too deeply");
	skip_space(p);
	switch (peek(p)) {
	case '{':
	case '[':
		v->type = peek(p) == '{' ? JSON_OBJECT : JSON_ARRAY;
		p->pos++;
		return members(p, v, depth, v->type == JSON_OBJECT);
	case '"':
		v->type = JSON_STRING;
		return string(p, &v->string);
	case 'n':
		return literal(p, "null", JSON_NULL, v);
	case 't':
		return literal(p, "true", JSON_TRUE, v);
	case 'f':
		return literal(p, "false", JSON_FALSE, v);
	case -1:
		return fail(p, "unexpected end of input");
	default:
		return number(p, v);
	}
}

int cnn_json_parse(const char *text, size_t len, size_t *pos, int *line, struct json *v)
{
	struct parser p = {text, len, *pos, line};
	int ret;

	memset(v, 0, sizeof *v);
	skip_space(&p);
	if (p.pos == len) {
		*pos = len;
		return CNN_END;
	}
	ret = value(&p, v, 0);
	*pos = p.pos;
	return ret;
}

void cnn_json_free(struct json *v)
{
	for (int i = 0; i < v->n; i++) {
		cnn_json_free(&v->item[i]);
		if (v->key)
			free(v->key[i]);
	}
	free(v->item);
	free(v->key);
	free(v->string);
	memset(v, 0, sizeof *v);
}

const struct json *cnn_json_get(const struct json *obj, const char *key)
{
	if (obj->type != JSON_OBJECT)
		return NULL;
	for (int i = 0; i < obj->n; i++)
		if (strcmp(obj->key[i], key) == 0)
			return &obj->item[i];
	return NULL;
}
