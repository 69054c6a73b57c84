"""Operations written once against the KeyStore protocol: they never ask which format they hold."""
