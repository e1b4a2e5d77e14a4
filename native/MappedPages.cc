// SPDX-License-Identifier: MIT
#include "MappedPages.h"

#ifdef __linux__
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#endif

namespace logtriage {

#ifdef __linux__
uint64_t ReleaseMappedPages(const std::string & path, const std::vector<FileSpan> & spans) {
    struct stat st {};
    if (spans.empty() || stat(path.c_str(), &st) != 0) {
        return 0;
    }
    // On overlayfs (containers) the maps line names the underlying device, not the one stat() sees,
    // so a mapping also matches by its path (a file replaced since shows " (deleted)" there).
    char real[PATH_MAX];
    const std::string resolved = realpath(path.c_str(), real) != nullptr ? real : path;
    FILE * maps = fopen("/proc/self/maps", "r");
    if (maps == nullptr) {
        return 0;
    }
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    uint64_t released = 0;
    char line[4096];
    while (fgets(line, sizeof(line), maps) != nullptr) {
        uint64_t start = 0, end = 0, offset = 0, inode = 0;
        unsigned int devMajor = 0, devMinor = 0;
        char perms[8] = { 0 };
        int pathAt = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &start, &end, perms, &offset, &devMajor,
                   &devMinor, &inode, &pathAt) != 7) {
            continue;
        }
        std::string mappedPath = pathAt > 0 ? line + pathAt : "";
        mappedPath.erase(mappedPath.find_last_not_of("\n") + 1);
        const bool sameFile = (inode == st.st_ino && devMajor == major(st.st_dev) && devMinor == minor(st.st_dev)) ||
                              (!mappedPath.empty() && mappedPath == resolved);
        // Only the read-only shared file mapping llama.cpp makes: DONTNEED on a private or
        // anonymous page would discard data instead of dropping a cached copy.
        if (!sameFile || perms[0] != 'r' || perms[1] != '-' || perms[3] != 's') {
            continue;
        }
        for (const FileSpan & span : spans) {
            const uint64_t from = std::max(span.first, offset);
            const uint64_t to = std::min(span.second, offset + (end - start));
            const uint64_t first = (start + (from - offset) + page - 1) / page * page;  // whole pages only:
            const uint64_t last = (start + (to - offset)) / page * page;                 // neighbours stay
            if (from < to && first < last && madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED) == 0) {
                released += last - first;
            }
        }
    }
    fclose(maps);
    return released;
}
#else
uint64_t ReleaseMappedPages(const std::string &, const std::vector<FileSpan> &) {
    return 0;
}
#endif

}  // namespace logtriage
