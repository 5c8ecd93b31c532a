/*
 * outfile.c - named output files that are replaced, never truncated.
 *
 * A program that is told to write FILE writes a temporary file beside it
 * (same directory, so that rename(2) is atomic) and renames it over FILE
 * only once every byte is out and closed.  Until then FILE is whatever it
 * was; a failure, a signal or die() removes the temporary file instead.
 * Targets that cannot be renamed over (/dev/null, a FIFO, a terminal) are
 * written in place, as there is nothing there to lose.
 *
 * Temporary names are kept in a small table so that cnn_outfile_cleanup()
 * can unlink them from a signal handler: the table is written under a
 * lock, and read by the handler without one, slot by slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnn.h"

struct cnn_outfile {
	FILE *f;
	char *path;   /* the target; NULL for standard output */
	char *temp;   /* the file being written; NULL when written in place */
	int flags;
	int slot;     /* in pending[], or -1 */
};

#define MAX_PENDING 256 /* cnn-shuffle spills to 64 at once */
static char *volatile pending[MAX_PENDING];
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;

static int remember(char *temp)
{
	int slot = -1;

	pthread_mutex_lock(&pending_lock);
	for (int i = 0; i < MAX_PENDING && slot < 0; i++)
		if (!pending[i])
			pending[slot = i] = temp;
	pthread_mutex_unlock(&pending_lock);
	return slot;
}

static void forget(int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&pending_lock);
	pending[slot] = NULL;
	pthread_mutex_unlock(&pending_lock);
}

void cnn_outfile_cleanup(void)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		char *temp = pending[i];
		if (temp)
			unlink(temp);
	}
}

/* The regular file a name stands for: a symbolic link is followed, so
 * that the file it points to is replaced and the link stays. */
static char *resolve(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return realpath(path, NULL);
	return strdup(path);
}

/* "DIR/.BASE.XXXXXX" beside path. */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path + 1) : 0;
	char *t = malloc(strlen(path) + 16);

	if (t)
		sprintf(t, "%.*s.%s.XXXXXX", (int)dir, path, path + dir);
	return t;
}

/* The new file gets the old one's permissions, or 0666 less the umask. */
static mode_t new_mode(const struct stat *old, int exists)
{
	mode_t mask;

	if (exists)
		return old->st_mode & 07777;
	mask = umask(0);
	umask(mask);
	return 0666 & ~mask;
}

static cnn_outfile *fail(cnn_outfile *o)
{
	if (o->f && o->path)
		fclose(o->f);
	if (o->temp)
		unlink(o->temp);
	forget(o->slot);
	free(o->temp);
	free(o->path);
	free(o);
	return NULL;
}

cnn_outfile *cnn_outfile_open(const char *path, int flags)
{
	cnn_outfile *o = calloc(1, sizeof *o);
	struct stat st;
	int exists, fd;

	if (!o) {
		cnn_error("out of memory");
		return NULL;
	}
	o->flags = flags;
	o->slot = -1;
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return o;
	}
	exists = stat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		cnn_error("%s: is a directory", path);
		return fail(o);
	}
	/* /dev/null, /dev/fd/N of a pipe, a FIFO: nothing there to lose. */
	if (exists && !S_ISREG(st.st_mode)) {
		if (!(o->path = strdup(path)) || !(o->f = fopen(path, "wb"))) {
			cnn_error("%s: %s", path, strerror(errno));
			return fail(o);
		}
		return o;
	}
	if (!(o->path = resolve(path))) {
		cnn_error("%s: %s", path, strerror(errno));
		return fail(o);
	}
	if (!(o->temp = temp_name(o->path))) {
		cnn_error("out of memory");
		return fail(o);
	}
	if ((fd = mkstemp(o->temp)) < 0) {
		/* Say which directory refused, not the made-up name. */
		cnn_error("%s: cannot create a file beside it: %s", path, strerror(errno));
		free(o->temp);
		o->temp = NULL;
		return fail(o);
	}
	o->slot = remember(o->temp);
	if (fchmod(fd, new_mode(&st, exists)) || !(o->f = fdopen(fd, "wb"))) {
		cnn_error("%s: %s", path, strerror(errno));
		close(fd);
		return fail(o);
	}
	return o;
}

FILE *cnn_outfile_stream(const cnn_outfile *o)
{
	return o->f;
}

/* The directory entry of a renamed file is only durable once the
 * directory itself is synced. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, ret = 0;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		return 0; /* nothing to sync we can reach: the rename stands */
	ret = fsync(fd);
	close(fd);
	return ret;
}

int cnn_outfile_commit(cnn_outfile *o)
{
	const char *name = o->path ? o->path : "<stdout>";
	int err = 0, renamed = 0;

	if (fflush(o->f) || ferror(o->f))
		err = errno ? errno : EIO;
	if (!err && o->temp && (o->flags & CNN_OUTFILE_SYNC) && fsync(fileno(o->f)))
		err = errno;
	if (o->path) {
		if (fclose(o->f) && !err)
			err = errno;
		o->f = NULL;
	}
	if (!err && o->temp) {
		if (rename(o->temp, o->path))
			err = errno;
		else {
			renamed = 1;
			forget(o->slot);
			o->slot = -1;
			free(o->temp);
			o->temp = NULL;
		}
	}
	if (!err && renamed && (o->flags & CNN_OUTFILE_SYNC) && sync_dir(o->path))
		err = errno;
	if (err) {
		cnn_error("%s: write error: %s", name, strerror(err));
		fail(o);
		return CNN_ERR;
	}
	free(o->path);
	free(o);
	return CNN_OK;
}

void cnn_outfile_discard(cnn_outfile *o)
{
	if (!o)
		return;
	if (!o->path) {
		fflush(o->f);
		free(o);
		return;
	}
	fail(o);
}
