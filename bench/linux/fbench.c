/*
 * fbench: the Linux peer of Ferrous' in-guest micro-benchmarks.
 *
 * Built by `cargo xtask bench` with `gcc -O2 -static` and run as /init of a
 * small initramfs under the same QEMU configuration as Ferrous. Every
 * benchmark runs one warm-up batch and then BATCHES timed batches of `iters`
 * operations, and prints, exactly like kernel/src/bench.rs:
 *
 *   bench <name>: median N cycles/op (min A, max B, K x M ops)
 *
 * where N, A and B are per-batch cycles per operation (rdtsc). Single values
 * (boot timings) are printed as `value <name>: N <unit>`. When everything is
 * done it prints `bench-linux-ready` and leaves QEMU through isa-debug-exit
 * (status 33 on success, 35 on failure).
 *
 * Usage: fbench [quick]   (as /init: kernel command line `... -- quick`)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 15
#define EXIT_PORT 0xf4
/* isa-debug-exit: QEMU exits with (value << 1) | 1. */
#define EXIT_PASS 0x10 /* status 33 */
#define EXIT_FAIL 0x11 /* status 35 */
/* What fork-exec-wait runs: a small static program that exits at once. */
#define SPAWN_PATH "/bin/busybox"
#define SPAWN_ARGV0 "true"

static int failures;
static int quick;

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void fail(const char *what)
{
    printf("fbench: error: %s: %s\n", what, strerror(errno));
    failures++;
}

static void leave_qemu(int code)
{
    fflush(stdout);
    /* Run by hand (not as /init in the guest): never poke a real port. */
    if (getpid() != 1)
        exit(code == EXIT_PASS ? 0 : 1);
    if (ioperm(EXIT_PORT, 4, 1) == 0)
        outl(code, EXIT_PORT);
    /* No isa-debug-exit device: power off instead. */
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * One benchmark: `run(n)` performs n operations. One warm-up batch, then
 * BATCHES timed ones; per-batch cycles per op; median, min and max.
 */
static void measure(const char *name, long iters, void (*run)(long))
{
    uint64_t per_op[BATCHES];
    int failures_before = failures;
    for (int b = -1; b < BATCHES; b++) { /* batch -1 is the warm-up */
        uint64_t t0 = rdtsc();
        run(iters);
        uint64_t t1 = rdtsc();
        if (failures != failures_before) {
            printf("fbench: error: %s failed; no result\n", name);
            return;
        }
        if (b >= 0)
            per_op[b] = (t1 - t0) / (uint64_t)iters;
    }
    qsort(per_op, BATCHES, sizeof per_op[0], cmp_u64);
    printf("bench %s: median %llu cycles/op (min %llu, max %llu, %d x %ld ops)\n", name,
           (unsigned long long)per_op[BATCHES / 2], (unsigned long long)per_op[0],
           (unsigned long long)per_op[BATCHES - 1], BATCHES, iters);
}

static long scaled(long full)
{
    long n = quick ? full / 10 : full;
    return n < 4 ? 4 : n;
}

/* ---- null syscall ---- */

static void run_getpid(long n)
{
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
}

/* ---- page map + touch + unmap ---- */

static void run_mmap(long n)
{
    for (long i = 0; i < n; i++) {
        volatile char *p =
            mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            fail("mmap");
            return;
        }
        *p = 1; /* fault a zeroed frame in */
        munmap((void *)p, 4096);
    }
}

/* ---- byte ping-pong between two processes (pipes, socketpair) ---- */

static int to_peer = -1, from_peer = -1;

static void run_pingpong(long n)
{
    char c = 'x';
    for (long i = 0; i < n; i++) {
        if (write(to_peer, &c, 1) != 1 || read(from_peer, &c, 1) != 1) {
            fail("ping-pong");
            return;
        }
    }
}

/* The echoing child: reads a byte, sends it back, until end of file. */
static void echo_loop(int in, int out)
{
    char c;
    while (read(in, &c, 1) == 1)
        if (write(out, &c, 1) != 1)
            break;
    _exit(0);
}

static void bench_pipe(void)
{
    int down[2], up[2];
    if (pipe(down) || pipe(up)) {
        fail("pipe");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fail("fork");
        return;
    }
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        echo_loop(down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    to_peer = down[1];
    from_peer = up[0];
    measure("pipe-roundtrip", scaled(1000), run_pingpong);
    close(to_peer);
    close(from_peer);
    waitpid(pid, NULL, 0);
}

static void bench_socketpair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        fail("socketpair");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fail("fork");
        return;
    }
    if (pid == 0) {
        close(sv[0]);
        echo_loop(sv[1], sv[1]);
    }
    close(sv[1]);
    to_peer = from_peer = sv[0];
    measure("socketpair-roundtrip", scaled(1000), run_pingpong);
    close(sv[0]);
    waitpid(pid, NULL, 0);
}

/* ---- futex ping-pong between two processes on a shared page ---- */

enum { F_PEER = 0, F_MAIN = 1, F_QUIT = 2 }; /* whose turn it is */
static _Atomic int *turn;

static void futex_wait(_Atomic int *w, int val)
{
    syscall(SYS_futex, w, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void run_futex(long n)
{
    for (long i = 0; i < n; i++) {
        atomic_store(turn, F_PEER);
        futex_wake(turn);
        while (atomic_load(turn) == F_PEER)
            futex_wait(turn, F_PEER);
    }
}

static void bench_futex(void)
{
    turn = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (turn == MAP_FAILED) {
        fail("mmap shared");
        return;
    }
    atomic_store(turn, F_MAIN);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fail("fork");
        return;
    }
    if (pid == 0) {
        for (;;) {
            int t;
            while ((t = atomic_load(turn)) == F_MAIN)
                futex_wait(turn, F_MAIN);
            if (t == F_QUIT)
                _exit(0);
            atomic_store(turn, F_MAIN);
            futex_wake(turn);
        }
    }
    measure("futex-roundtrip", scaled(1000), run_futex);
    atomic_store(turn, F_QUIT);
    futex_wake(turn);
    waitpid(pid, NULL, 0);
    munmap((void *)turn, 4096);
}

/* ---- sched_yield between two SCHED_FIFO threads on CPU 0 ---- */

static atomic_int yield_stop;
static atomic_long peer_yields;

static int pin_fifo(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    struct sched_param sp = {.sched_priority = 1};
    if (sched_setaffinity(0, sizeof set, &set))
        return -1;
    return sched_setscheduler(0, SCHED_FIFO, &sp);
}

static void *yield_peer(void *arg)
{
    (void)arg;
    if (pin_fifo()) {
        fail("yield peer: SCHED_FIFO on CPU 0");
        atomic_store(&yield_stop, 1);
        return NULL;
    }
    while (!atomic_load(&yield_stop)) {
        sched_yield();
        atomic_fetch_add(&peer_yields, 1);
    }
    return NULL;
}

/* n switches: this thread yields n/2 times, the peer as often. */
static void run_yield(long n)
{
    for (long i = 0; i < n / 2; i++)
        sched_yield();
}

static void bench_yield(void)
{
    struct sched_param normal = {.sched_priority = 0};
    if (pin_fifo()) {
        fail("SCHED_FIFO on CPU 0");
        return;
    }
    pthread_t thread;
    atomic_store(&yield_stop, 0);
    if (pthread_create(&thread, NULL, yield_peer, NULL)) {
        fail("pthread_create");
        sched_setscheduler(0, SCHED_OTHER, &normal);
        return;
    }
    sched_yield(); /* let the peer make itself SCHED_FIFO */
    long n = scaled(2000) & ~1L;
    long before = atomic_load(&peer_yields);
    measure("yield-switch", n, run_yield);
    long peer = atomic_load(&peer_yields) - before;
    long mine = (BATCHES + 1) * (n / 2);
    atomic_store(&yield_stop, 1);
    pthread_join(thread, NULL);
    sched_setscheduler(0, SCHED_OTHER, &normal);
    /* Every yield of ours must have handed the CPU to the peer and back. */
    if (peer < mine - 2 || peer > mine + 2) {
        printf("fbench: error: yield-switch: %ld yields here but %ld in the peer\n", mine, peer);
        failures++;
    }
}

/* ---- process spawn: fork + exec + wait ---- */

static void run_spawn(long n)
{
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fail("fork");
            return;
        }
        if (pid == 0) {
            execl(SPAWN_PATH, SPAWN_ARGV0, (char *)NULL);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            printf("fbench: error: %s %s did not exit 0\n", SPAWN_PATH, SPAWN_ARGV0);
            failures++;
            return;
        }
    }
}

/* ---- boot ---- */

static uint64_t ns_of(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

/* TSC ticks per second, against CLOCK_MONOTONIC_RAW over ~20 ms. */
static uint64_t tsc_hz(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC_RAW, &a);
    uint64_t t0 = rdtsc();
    do
        clock_gettime(CLOCK_MONOTONIC_RAW, &b);
    while (ns_of(&b) - ns_of(&a) < 20000000ull);
    uint64_t t1 = rdtsc();
    uint64_t ns = ns_of(&b) - ns_of(&a);
    return (uint64_t)((double)(t1 - t0) * 1e9 / (double)ns);
}

/* What the kernel does about CPU vulnerabilities costs syscalls and
 * switches: say which mitigations are on for the emulated CPU. */
static void print_mitigations(void)
{
    static const char *const which[] = {"meltdown", "spectre_v1", "spectre_v2", "mds",
                                        "retbleed"};
    printf("linux mitigations:");
    for (unsigned i = 0; i < sizeof which / sizeof which[0]; i++) {
        char path[96], text[160] = "";
        snprintf(path, sizeof path, "/sys/devices/system/cpu/vulnerabilities/%s", which[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(text, sizeof text, f))
            text[strcspn(text, "\n")] = 0;
        fclose(f);
        printf(" %s=\"%s\"", which[i], text);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    /* First: the moment /init starts, in guest TSC and in kernel time. */
    uint64_t tsc_at_init = rdtsc();
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("linux init reached\n");

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "quick") == 0)
            quick = 1;

    if (getpid() == 1) {
        mkdir("/proc", 0555);
        if (mount("proc", "/proc", "proc", 0, NULL))
            fail("mount /proc");
        /* Let SCHED_FIFO threads run without the 95% real-time throttle. */
        int fd = open("/proc/sys/kernel/sched_rt_runtime_us", O_WRONLY);
        if (fd >= 0) {
            if (write(fd, "-1", 2) != 2)
                fail("sched_rt_runtime_us");
            close(fd);
        }
    }

    if (getpid() == 1) {
        mkdir("/sys", 0555);
        if (mount("sysfs", "/sys", "sysfs", 0, NULL))
            fail("mount /sys");
    }
    print_mitigations();

    struct utsname u;
    if (uname(&u) == 0)
        printf("linux kernel: %s %s\n", u.release, u.version);
    printf("fbench: mode %s, %ld online CPU(s)\n", quick ? "quick" : "full",
           sysconf(_SC_NPROCESSORS_ONLN));

    uint64_t hz = tsc_hz();
    printf("value tsc-khz: %llu kHz\n", (unsigned long long)(hz / 1000));
    /* CLOCK_BOOTTIME starts in start_kernel (after the EFI stub and the
     * decompressor), so this is start_kernel -> /init in TSC cycles. */
    printf("value boot-kernel-to-init: %llu cycles\n",
           (unsigned long long)((double)ns_of(&boot) * (double)hz / 1e9));
    printf("value boot-tsc-at-init: %llu cycles\n", (unsigned long long)tsc_at_init);

    measure("getpid", scaled(5000), run_getpid);
    measure("mmap-munmap-4k", scaled(2000), run_mmap);
    bench_pipe();
    bench_socketpair();
    bench_futex();
    bench_yield();
    measure("fork-exec-wait", scaled(60), run_spawn);

    if (failures) {
        printf("fbench: %d error(s)\n", failures);
        leave_qemu(EXIT_FAIL);
    }
    printf("bench-linux-ready\n");
    leave_qemu(EXIT_PASS);
    return 0;
}
