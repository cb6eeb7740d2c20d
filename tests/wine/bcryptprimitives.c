/*
 * A test-only bcryptprimitives.dll for wine 8, which has none.
 *
 * Rust's standard library (1.78 and later) links the Windows targets against
 * bcryptprimitives.dll for `ProcessPrng`, the random source behind
 * `HashMap`'s hash seeds. Wine 8.0 does not ship that DLL, so every Rust
 * program fails at start-up with STATUS_DLL_NOT_FOUND (c0000135). This DLL
 * provides `ProcessPrng` by calling `BCryptGenRandom` with the system RNG,
 * which wine implements. It is copied into the test wine prefix only and is
 * never packaged: real Windows 10 and later ship the DLL.
 */
#include <windows.h>
#include <bcrypt.h>

/* Fills `data` with `length` random bytes and returns TRUE, like the
 * Windows export. If wine's BCryptGenRandom fails, it returns FALSE. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
