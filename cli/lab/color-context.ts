import { createContext, useContext } from "react";

/** Whether components may use colour and styles; false means plain text only. */
export const ColorContext = createContext(false);

export const useColor = (): boolean => useContext(ColorContext);
