#include "log.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>
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
static int fatal_fd = -1;   /* the log file's, for a crash's report */

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
	__atomic_store_n(&fatal_fd, logger.file ? fileno(logger.file) : -1,
			 __ATOMIC_RELEASE);
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
	__atomic_store_n(&fatal_fd, -1, __ATOMIC_RELEASE);
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

/* ---- a crash's report (log_fatal_signals) ---- */

static void fatal_put(const char *s, size_t n)
{
	int fd = __atomic_load_n(&fatal_fd, __ATOMIC_ACQUIRE);

	if (write(STDERR_FILENO, s, n) < 0) {
		/* nowhere else to say it */
	}
	if (fd >= 0 && write(fd, s, n) < 0) {
		/* the log file is gone: stderr had it */
	}
}

/* "  0x...: object+0x... (symbol+0x...)" for a code address, if it is
 * one (dladdr is not async-signal-safe: the process dies anyway). */
static void fatal_where(const char *what, uintptr_t a)
{
	char line[512];
	Dl_info di;
	int n;

	if (!a || !dladdr((void *)a, &di) || !di.dli_fname)
		return;
	n = snprintf(line, sizeof line, "%s: fatal:   %s %#lx: %s+%#lx "
		     "(%s+%#lx)\n", logger.ident, what, (unsigned long)a,
		     di.dli_fname,
		     (unsigned long)(a - (uintptr_t)di.dli_fbase),
		     di.dli_sname ? di.dli_sname : "?", di.dli_saddr ?
		     (unsigned long)(a - (uintptr_t)di.dli_saddr) : 0ul);
	if (n > 0)
		fatal_put(line, (size_t)n < sizeof line ? (size_t)n
						       : sizeof line - 1);
}

static void fatal_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t ip = 0, sp = 0, *top;
	void *frames[32];
	char line[256];
	int n, i;

#if defined(__x86_64__)
	ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#endif
	n = snprintf(line, sizeof line, "%s: fatal: signal %d (%s) in "
		     "thread %d, address %p, ip %#lx, sp %#lx\n",
		     logger.ident, sig, strsignal(sig), (int)gettid(),
		     si->si_addr, (unsigned long)ip, (unsigned long)sp);
	fatal_put(line, (size_t)n);
	fatal_where("ip", ip);
	/* what calls and returns left on top of the stack */
	for (top = (uintptr_t *)sp, i = 0; top && i < 24; i++)
		fatal_where("stack", top[i]);
	n = backtrace(frames, 32);
	i = snprintf(line, sizeof line, "%s: fatal: backtrace:\n",
		     logger.ident);
	fatal_put(line, (size_t)i);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	if (__atomic_load_n(&fatal_fd, __ATOMIC_ACQUIRE) >= 0)
		backtrace_symbols_fd(frames, n, fatal_fd);
	raise(sig);   /* SA_RESETHAND: as it would have died */
}

static const int fault_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
				  SIGSYS, SIGABRT };

void log_block_signals(sigset_t *old)
{
	sigset_t all;
	size_t i;

	sigfillset(&all);
	for (i = 0; i < sizeof fault_sigs / sizeof *fault_sigs; i++)
		sigdelset(&all, fault_sigs[i]);
	pthread_sigmask(SIG_SETMASK, &all, old);
}

void log_fatal_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;
	void *one[1];
	size_t i;

#if defined(__SANITIZE_ADDRESS__)
	return;   /* the sanitizer's own report is better */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return;
#endif
#endif
	backtrace(one, 1);   /* loads libgcc now, not in the handler */
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fatal_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
}
