/* Logging in the manner of OpenBSD vmd's log.c: stderr in the foreground,
 * syslog and a log file when daemonized. */
#ifndef MAAS_LOG_H
#define MAAS_LOG_H

#include <signal.h>

enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* foreground: write to stderr; path: also append to this file (may be NULL). */
void log_init(const char *ident, int foreground, const char *path);
void log_set_level(enum log_level level);
void log_close(void);
/* A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) is reported before
 * the process dies as it would have (a core, if the limit allows): the
 * signal, the fault address, the registers that locate it, the code
 * addresses on top of the stack (a jump through a bad pointer leaves its
 * caller's return address there) as object+offset and symbol, then a
 * backtrace; on stderr and in the log file. Called once, early. */
void log_fatal_signals(void);
/* A fault of a thread's own code (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGTRAP, SIGSYS) raised while that thread blocks it kills the process
 * without that report: the kernel forces the default action. So a thread
 * about to start helpers (which inherit its mask) blocks every signal but
 * these and SIGABRT with this; the former mask in *old. (libfuse's
 * workers block only SIGHUP, SIGINT, SIGQUIT and SIGTERM.) */
void log_block_signals(sigset_t *old);
/* In this thread, only warnings are written from now on (quiet true) or
 * everything again: a plan's verbs (core/plan.h) say nothing of the
 * changes they only pretend to make. */
void log_quiet(int quiet);

void log_warn_at(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_warnx_at(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_info_at(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_debug_at(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* log_warn appends strerror(errno); log_warnx does not. */
#define log_warn(...)  log_warn_at(__func__, __VA_ARGS__)
#define log_warnx(...) log_warnx_at(__func__, __VA_ARGS__)
#define log_info(...)  log_info_at(__func__, __VA_ARGS__)
#define log_debug(...) log_debug_at(__func__, __VA_ARGS__)

#endif
