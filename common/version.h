/*
 * version.h: the appliance's release, printed by each program's --version
 * and matched by the Debian package's upstream version (debian/changelog).
 */
#ifndef COMMON_VERSION_H
#define COMMON_VERSION_H

#define APP_VERSION "0.1.0"

#endif
