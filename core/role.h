// Roles of API principals: what a caller may do, in increasing order of power.
//   reader    read its own tasks, their events and files
//   exporter  also create, cancel and delete the files of its own tasks
//   admin     everything, on every principal's tasks
#ifndef EXPORTD_CORE_ROLE_H_
#define EXPORTD_CORE_ROLE_H_

#include <optional>
#include <string_view>

namespace exportd {

enum class Role { kReader = 0, kExporter = 1, kAdmin = 2 };

std::string_view RoleName(Role role);  // "reader", "exporter", "admin"
std::optional<Role> ParseRole(std::string_view name);

// Whether a caller holding `held` may do what needs `needed` (each role includes the ones below).
inline bool RoleAllows(Role held, Role needed) {
  return static_cast<int>(held) >= static_cast<int>(needed);
}

}  // namespace exportd

#endif  // EXPORTD_CORE_ROLE_H_
