/* Kernel-side TCP load for bench/40-tcp.sh: bulk send/receive, 1-byte request/response, servers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 *   tcp_blast send HOST PORT BYTES     connect, write BYTES, close; prints Gbit/s
 *   tcp_blast recv HOST PORT BYTES     connect, read BYTES; prints Gbit/s
 *   tcp_blast rr HOST PORT SECONDS     1-byte ping-pong (echo server); prints transactions/s
 *   tcp_blast serve PORT [ADDR4]       kernel server: port PORT discards, PORT+1 is a
 *                                      source (chargen-like), PORT+2 echoes (for veth runs)
 */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *host, int port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*a6);
	} else {
		fprintf(stderr, "bad address %s\n", host);
		exit(2);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void serve_one(int kind, int fd)
{
	static char buf[1 << 17];
	if (kind == 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	} else if (kind == 1) {
		memset(buf, 'x', sizeof(buf));
		while (write(fd, buf, sizeof(buf)) > 0)
			;
	} else {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				break;
	}
	close(fd);
	_exit(0);
}

static int serve(int port, const char *addr4)
{
	signal(SIGCHLD, SIG_IGN);
	int ls[3];
	for (int k = 0; k < 3; k++) {
		int one = 1, zero = 0, rc;
		if (addr4) {
			/* bound to one IPv4 address only (e.g. 127.0.0.1 for slirp4netns) */
			ls[k] = socket(AF_INET, SOCK_STREAM, 0);
			setsockopt(ls[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(port + k))};
			inet_pton(AF_INET, addr4, &a.sin_addr);
			rc = bind(ls[k], (struct sockaddr *)&a, sizeof(a));
		} else {
			ls[k] = socket(AF_INET6, SOCK_STREAM, 0);
			setsockopt(ls[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			setsockopt(ls[k], IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			struct sockaddr_in6 a = {.sin6_family = AF_INET6,
						 .sin6_port = htons((uint16_t)(port + k))};
			rc = bind(ls[k], (struct sockaddr *)&a, sizeof(a));
		}
		if (rc < 0 || listen(ls[k], 64) < 0) {
			perror("bind/listen");
			return 1;
		}
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM); /* go when the server goes */
			for (;;) {
				int fd = accept(ls[k], NULL, NULL);
				if (fd < 0)
					continue;
				if (fork() == 0) {
					prctl(PR_SET_PDEATHSIG, SIGTERM);
					serve_one(k, fd);
				}
				close(fd);
			}
		}
	}
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), argc == 4 ? argv[3] : NULL);
	if (argc != 5) {
		fprintf(stderr, "usage: tcp_blast send|recv|rr HOST PORT BYTES|SECONDS | serve PORT\n");
		return 2;
	}
	static char buf[1 << 17];
	memset(buf, 'b', sizeof(buf));
	int fd = dial(argv[2], atoi(argv[3]));
	double t0 = now_s();
	if (!strcmp(argv[1], "rr")) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		double secs = atof(argv[4]);
		unsigned long n = 0;
		char c = 'p';
		while (now_s() - t0 < secs) {
			if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
				perror("rr");
				return 1;
			}
			n++;
		}
		printf("%.0f\n", (double)n / (now_s() - t0));
		return 0;
	}
	unsigned long long total = strtoull(argv[4], NULL, 10), done = 0;
	int snd = !strcmp(argv[1], "send");
	while (done < total) {
		size_t want = total - done < sizeof(buf) ? (size_t)(total - done) : sizeof(buf);
		ssize_t n = snd ? write(fd, buf, want) : read(fd, buf, want);
		if (n <= 0) {
			fprintf(stderr, "%s: %s after %llu bytes\n", argv[1], n ? strerror(errno) : "EOF",
				done);
			return 1;
		}
		done += (unsigned long long)n;
	}
	if (snd) {
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			; /* wait for the peer's FIN: every byte was taken */
	}
	double dt = now_s() - t0;
	printf("%.3f\n", (double)total * 8 / dt / 1e9);
	return 0;
}
