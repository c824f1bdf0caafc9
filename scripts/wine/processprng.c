/* bcryptprimitives.dll for Wine versions that lack it (Wine 8 does): Go
   programs since Go 1.22 call its ProcessPrng at start-up and die without
   it. ProcessPrng fills a buffer with random bytes; this one forwards to
   RtlGenRandom (advapi32!SystemFunction036). scripts/wine-test.sh builds
   it with x86_64-w64-mingw32-gcc when Wine needs it. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    return TRUE;
}
