/*
 * testloss.h - what the tests' own loss layers (testloss.c) note down.
 */
#ifndef TESTLOSS_H
#define TESTLOSS_H

#include <stdint.h>

/* What [identity_probe] saw, example after example: the identity, and the
 * first input value (the tests put the example's number there). */
#define TESTLOSS_MAX 65536
extern int64_t testloss_seen[TESTLOSS_MAX][2];
extern int testloss_nseen;

#endif
