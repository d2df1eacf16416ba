/* api_reqid.c - see api_reqid.h. */
#include "api_reqid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int
api_reqid_new(char out[API_REQID_SIZE])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];
	size_t n = 0, used = sizeof(rnd);

	memcpy(out, "req-", 4);
	while (n < API_REQID_CHARS) {
		if (used == sizeof(rnd)) {
			ssize_t got = getrandom(rnd, sizeof(rnd), 0);
			if (got != (ssize_t)sizeof(rnd))
				return got < 0 ? -errno : -EIO;
			used = 0;
		}
		unsigned char b = rnd[used++];
		/* 252 = 7 x 36: rejecting the top four values keeps every digit equally likely. */
		if (b < 252)
			out[4 + n++] = digits[b % 36];
	}
	out[4 + API_REQID_CHARS] = '\0';
	return 0;
}
