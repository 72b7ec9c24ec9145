/* Faults injected below the code under test (see faults.c). */
#ifndef MAAS_TEST_FAULTS_H
#define MAAS_TEST_FAULTS_H

extern int fault_fsync_dir;

#endif
