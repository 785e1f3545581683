/* kvm_min GUEST.bin: the peer program of benchmark (a), a minimal VMM. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "raw_kvm.h"

static uint8_t image[1 << 20];

int main(int argc, char **argv)
{
	int fd;
	ssize_t len;

	if (argc != 2)
		return fprintf(stderr, "usage: kvm_min GUEST.bin\n"), 2;
	if ((fd = open(argv[1], O_RDONLY)) < 0 || (len = read(fd, image, sizeof(image))) <= 0)
		return perror(argv[1]), 1;
	return raw_kvm_run(image, (size_t)len, STDOUT_FILENO) < 0;
}
