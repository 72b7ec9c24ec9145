#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
	pthread_mutex_t lock;
	int foreground;
	int use_syslog;
	FILE *file;
	enum log_level level;
	const char *ident;
} logger = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.foreground = 1,
	.level = LOG_LEVEL_INFO,
	.ident = "maasfs",
};

static __thread int quiet;

void log_quiet(int on)
{
	quiet = on;
}

void log_init(const char *ident, int foreground, const char *path)
{
	pthread_mutex_lock(&logger.lock);
	logger.ident = ident;
	logger.foreground = foreground;
	/* Without a syslog daemon (no /dev/log when maasfs starts), every
	 * syslog() would try to connect again: the log file is enough. */
	if (!foreground && access("/dev/log", W_OK) == 0) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		logger.use_syslog = 1;
	}
	if (logger.file) {
		fclose(logger.file);
		logger.file = NULL;
	}
	if (path) {
		logger.file = fopen(path, "ae");
		if (logger.file)
			setvbuf(logger.file, NULL, _IOLBF, 0);
	}
	pthread_mutex_unlock(&logger.lock);
}

void log_set_level(enum log_level level)
{
	logger.level = level;
}

void log_close(void)
{
	pthread_mutex_lock(&logger.lock);
	if (logger.file)
		fclose(logger.file);
	logger.file = NULL;
	if (logger.use_syslog)
		closelog();
	logger.use_syslog = 0;
	pthread_mutex_unlock(&logger.lock);
}

static void vlog(enum log_level level, const char *func, const char *suffix,
		 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void vlog(enum log_level level, const char *func, const char *suffix,
		 const char *fmt, va_list ap)
{
	static const char *const names[] = { "warn", "info", "debug" };
	static const int prio[] = { LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024], why[256];
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > logger.level || (quiet && level > LOG_LEVEL_WARN))
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	text_clean(msg);     /* a value's newline never forges a line */
	if (suffix) {
		snprintf(why, sizeof why, "%s", suffix);
		suffix = text_clean(why);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&logger.lock);
	if (logger.foreground)
		fprintf(stderr, "%s: %s: %s: %s%s%s\n", logger.ident,
			names[level], func, msg, suffix ? ": " : "",
			suffix ? suffix : "");
	if (logger.use_syslog)
		syslog(prio[level], "%s: %s%s%s", func, msg, suffix ? ": " : "",
		       suffix ? suffix : "");
	if (logger.file)
		fprintf(logger.file, "%s.%03ldZ %s %s: %s%s%s\n", stamp,
			ts.tv_nsec / 1000000, names[level], func, msg,
			suffix ? ": " : "", suffix ? suffix : "");
	pthread_mutex_unlock(&logger.lock);
}

void log_warn_at(const char *func, const char *fmt, ...)
{
	char buf[128];
	int saved = errno;
	const char *why = strerror_r(saved, buf, sizeof buf);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, func, why, fmt, ap);
	va_end(ap);
	errno = saved;
}

#define LOG_AT(fn, level)                                   \
	void fn(const char *func, const char *fmt, ...)     \
	{                                                   \
		int saved = errno;                          \
		va_list ap;                                 \
		va_start(ap, fmt);                          \
		vlog(level, func, NULL, fmt, ap);           \
		va_end(ap);                                 \
		errno = saved;                              \
	}

LOG_AT(log_warnx_at, LOG_LEVEL_WARN)
LOG_AT(log_info_at, LOG_LEVEL_INFO)
LOG_AT(log_debug_at, LOG_LEVEL_DEBUG)
