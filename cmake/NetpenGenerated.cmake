# The man page and the shell completions, generated at build time (part of
# `all`) by the netpen binary itself from its option table
# (app/cli/completion): build/share/man/man1/netpen.1 and
# build/share/completions/{netpen.bash,_netpen,netpen.fish}, with their
# install rules (the places the distributions' shells look in).
include(GNUInstallDirs)
set(NETPEN_GENERATED_DIR ${PROJECT_BINARY_DIR}/share)
set(netpen_man ${NETPEN_GENERATED_DIR}/man/man1/netpen.1)
set(netpen_bash ${NETPEN_GENERATED_DIR}/completions/netpen.bash)
set(netpen_zsh ${NETPEN_GENERATED_DIR}/completions/_netpen)
set(netpen_fish ${NETPEN_GENERATED_DIR}/completions/netpen.fish)

add_custom_command(OUTPUT ${netpen_man}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${NETPEN_GENERATED_DIR}/man/man1
  COMMAND $<TARGET_FILE:netpen> completion --man > ${netpen_man}
  DEPENDS netpen VERBATIM COMMENT "Generating the netpen(1) man page")
foreach(shell IN ITEMS bash zsh fish)
  add_custom_command(OUTPUT ${netpen_${shell}}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${NETPEN_GENERATED_DIR}/completions
    COMMAND $<TARGET_FILE:netpen> completion ${shell} > ${netpen_${shell}}
    DEPENDS netpen VERBATIM COMMENT "Generating the ${shell} completion")
endforeach()
add_custom_target(netpen_generated ALL DEPENDS ${netpen_man} ${netpen_bash} ${netpen_zsh} ${netpen_fish})

install(FILES ${netpen_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${netpen_bash} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME netpen)
install(FILES ${netpen_zsh} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${netpen_fish} DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
