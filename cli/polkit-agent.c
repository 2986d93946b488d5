/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "packetfilterctl.h"
#include "polkit-agent.h"

#define POLKIT_AGENT_BINARY "/usr/bin/pkttyagent"

/* An agent that has not registered by then is of no use; carry on without it. */
#define POLKIT_AGENT_READY_TIMEOUT_MSEC (10 * 1000)

static pid_t agent_pid;

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void agent_exec(pid_t parent, int notify_fd) {
        char notify_fd_text[16];

        /* Go away with us, and don't start at all if we are already gone. */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                _exit(EXIT_FAILURE);

        /* The agent needs the terminal for its prompt even when our output is piped. */
        if (!isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO)) {
                int tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (tty >= 0) {
                        if (!isatty(STDOUT_FILENO))
                                (void) dup2(tty, STDOUT_FILENO);
                        if (!isatty(STDERR_FILENO))
                                (void) dup2(tty, STDERR_FILENO);
                }
        }

        /* Hand over the notify pipe and nothing else we may have inherited. */
        if (notify_fd > 3)
                (void) close_range(3, notify_fd - 1, 0);
        (void) close_range(notify_fd + 1, ~0U, 0);
        if (fcntl(notify_fd, F_SETFD, 0) < 0)
                _exit(EXIT_FAILURE);

        (void) snprintf(notify_fd_text, sizeof(notify_fd_text), "%d", notify_fd);
        execl(POLKIT_AGENT_BINARY, POLKIT_AGENT_BINARY, "--notify-fd", notify_fd_text, "--fallback", (char *) NULL);
        _exit(EXIT_FAILURE);
}

int polkit_agent_open(void) {
        _cleanup_close_ int ready_fd = -1, notify_fd = -1;
        int pipe_fds[2];

        if (agent_pid > 0)
                return 0;
        /* Root needs no authorization, and only a terminal can answer a prompt. */
        if (geteuid() == 0 || !isatty(STDIN_FILENO))
                return 0;
        /* Without an agent the daemon's refusal says what is missing; that is enough. */
        if (access(POLKIT_AGENT_BINARY, X_OK) < 0)
                return 0;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return cli_error_errno(negative_errno(), "Failed to create a pipe for the polkit agent: %m");
        ready_fd = pipe_fds[0];
        notify_fd = pipe_fds[1];

        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return cli_error_errno(negative_errno(), "Failed to start the polkit agent: %m");
        if (pid == 0)
                agent_exec(parent, notify_fd);

        agent_pid = pid;
        /* Our copy of the write end must go, so that the agent closing its copy shows as POLLHUP. */
        (void) close(TAKE_FD(notify_fd));

        /* pkttyagent closes the notify fd once registered (or exits when it cannot register). */
        struct pollfd pfd = { .fd = ready_fd, .events = POLLIN };
        while (poll(&pfd, 1, POLKIT_AGENT_READY_TIMEOUT_MSEC) < 0 && errno == EINTR)
                ;
        return 0;
}

bool polkit_agent_running(void) {
        return agent_pid > 0;
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;

        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}
