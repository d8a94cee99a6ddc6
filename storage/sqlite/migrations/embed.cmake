# Compiles storage/sqlite/migrations/NNN_name.sql into exportd_storage_sqlite as migrations_embedded.cc, so the
# binary carries its schema and reads nothing from disk at run time. Included from
# storage/sqlite/CMakeLists.txt after exportd_storage_sqlite is defined. A new .sql file re-runs the glob
# (CONFIGURE_DEPENDS); an edited one regenerates the source.
file(GLOB EXPORTD_MIGRATION_SQL CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/migrations/*.sql)
set(EXPORTD_MIGRATIONS_CC ${CMAKE_CURRENT_BINARY_DIR}/migrations_embedded.cc)
add_custom_command(
  OUTPUT ${EXPORTD_MIGRATIONS_CC}
  COMMAND ${CMAKE_COMMAND} -DSQL_DIR=${CMAKE_CURRENT_SOURCE_DIR}/migrations
          -DOUT=${EXPORTD_MIGRATIONS_CC} -P ${CMAKE_CURRENT_SOURCE_DIR}/migrations/generate.cmake
  DEPENDS ${EXPORTD_MIGRATION_SQL} ${CMAKE_CURRENT_SOURCE_DIR}/migrations/generate.cmake
  COMMENT "Embedding SQL migrations"
  VERBATIM)
target_sources(exportd_storage_sqlite PRIVATE ${EXPORTD_MIGRATIONS_CC})
