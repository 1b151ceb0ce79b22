// FAISS 1.7.3 compatibility for faiss-node 0.5.1: see CMakeLists.txt beside this file.
#pragma once
#include <faiss/Index.h>
namespace faiss {
using idx_t = Index::idx_t;
}
