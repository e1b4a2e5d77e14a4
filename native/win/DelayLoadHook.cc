// SPDX-License-Identifier: MIT
// Windows only. The addon imports Node-API from "node.exe" lazily (a delay-load import library made
// from node-api-headers' node_api.def, see CMakeLists.txt); this hook answers that import with the
// executable the process runs, whatever its name. An Electron app's MyApp.exe exports the same
// symbols but is not called node.exe: without the hook, loading the addon fails there. node-gyp
// ships the same hook (win_delay_load_hook.cc) for MSVC; this one is for mingw-w64's helper, which
// calls __pfnDliNotifyHook2 before it loads a delay-loaded DLL.
#ifdef _WIN32
#include <windows.h>
#include <delayimp.h>

#include <cstring>

static FARPROC WINAPI LoadHostExecutable(unsigned event, PDelayLoadInfo info) {
    if (event != dliNotePreLoadLibrary || _stricmp(info->szDll, "node.exe") != 0) {
        return nullptr;
    }
    return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

// Defined here, so the linker takes this definition instead of mingw-w64's empty one (delay-n.o).
PfnDliHook __pfnDliNotifyHook2 = LoadHostExecutable;
#endif
